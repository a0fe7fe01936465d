"""Read-only admin pages: airlock rows change only through ``hdh.airlock.services``."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from hdh.airlock.models import ReleasedFile, ReleaseRequest, RequestFile


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReleaseRequest)
class ReleaseRequestAdmin(_ReadOnlyAdmin):
    list_display = ("__str__", "state", "turn", "created_at", "submitted_at", "released_at")
    list_filter = ("state",)


@admin.register(RequestFile)
class RequestFileAdmin(_ReadOnlyAdmin):
    # Only metadata: the content is shown on the review page, never in the admin.
    list_display = ("request", "kind", "check_status", "size", "sha256", "version")
    fields = ("request", "kind", "check_status", "size", "sha256", "media_type", "version")
    list_filter = ("kind", "check_status")


@admin.register(ReleasedFile)
class ReleasedFileAdmin(_ReadOnlyAdmin):
    list_display = ("file", "sha256", "size", "released_at")
