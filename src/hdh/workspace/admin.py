"""Read-only admin views: every write goes through the services, which audit it.

Scripts, logs and outputs are the project's own and are not shown here: the
admin lists what exists and its state only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from hdh.workspace.models import Job, Output, Workspace


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Workspace)
class WorkspaceAdmin(ReadOnly):
    list_display = ("reference", "permit", "state", "opened_at", "read_only_at", "archived_at")
    list_filter = ("state",)
    fields = ("reference", "project", "permit", "state", "opened_at", "read_only_at", "archived_at")


@admin.register(Job)
class JobAdmin(ReadOnly):
    list_display = ("workspace", "number", "kind", "status", "created_at", "finished_at")
    list_filter = ("status", "kind")
    fields = (
        "workspace",
        "number",
        "kind",
        "status",
        "script_sha256",
        "limits",
        "exit_code",
        "created_at",
        "started_at",
        "heartbeat_at",
        "finished_at",
    )


@admin.register(Output)
class OutputAdmin(ReadOnly):
    list_display = ("workspace", "job", "size", "media_type", "created_at", "superseded_at")
    fields = ("workspace", "job", "size", "sha256", "media_type", "created_at", "superseded_at")
