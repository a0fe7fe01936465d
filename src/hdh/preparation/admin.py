"""Read-only admin views: every write goes through the services, which audit it."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from hdh.preparation.models import (
    ExtractionPlan,
    LinkageRun,
    PreparationRun,
    ProjectDataset,
    ProjectKey,
)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ExtractionPlan)
class PlanAdmin(ReadOnly):
    list_display = ("permit", "number", "status", "approved_at")


@admin.register(PreparationRun)
class RunAdmin(ReadOnly):
    list_display = ("pk", "project", "status", "engine", "key_version", "created_at")


@admin.register(ProjectDataset)
class DatasetAdmin(ReadOnly):
    list_display = ("project", "version", "rows", "key_version", "register_version", "created_at")


@admin.register(ProjectKey)
class KeyAdmin(ReadOnly):
    list_display = ("project", "version", "master_version", "fingerprint", "created_at")


@admin.register(LinkageRun)
class LinkageAdmin(ReadOnly):
    list_display = ("pk", "project", "status", "engine", "threshold", "created_at")
