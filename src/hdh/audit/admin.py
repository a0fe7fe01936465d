from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from hdh.audit.models import AuditEvent, AuditSeal


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = (
        "seq",
        "occurred_at",
        "actor_label",
        "action",
        "outcome",
        "target_type",
        "target_id",
    )
    list_filter = ("outcome", "action")
    search_fields = ("action", "actor_label", "target_id", "request_id")
    ordering = ("-seq",)


@admin.register(AuditSeal)
class AuditSealAdmin(ReadOnlyAdmin):
    list_display = ("day", "head_seq", "event_count", "sealed_at", "seal_hash")
    ordering = ("-day",)
