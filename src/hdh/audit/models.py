"""The audit log: append-only, hash-chained, sealed daily.

Personal-data decision: an event names the acting account (staff or researcher)
and the object acted on by type and id; it never holds health data nor a
direct identifier of a patient or citizen (``record()`` refuses them).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete an audit row."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("the audit log is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("the audit log is append-only")


class AppendOnlyModel(models.Model):
    """Rows are inserted once and never changed; the database enforces it too."""

    objects: ClassVar[models.Manager] = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows cannot be changed")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{type(self).__name__} rows cannot be deleted")


class Outcome(models.TextChoices):
    SUCCESS = "success", "succès"
    FAILURE = "failure", "échec"
    DENIED = "denied", "refus"


class AuditEvent(AppendOnlyModel):
    # Position in the chain: 1, 2, 3… with no gap. Unique, so two writers can
    # never both extend the same head.
    seq = models.BigIntegerField(unique=True)
    occurred_at = models.DateTimeField()
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=100, db_index=True)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=100, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    request_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["target_type", "target_id"]),
            models.Index(fields=["actor_id", "occurred_at"]),
            models.Index(fields=["occurred_at"]),
        ]
        verbose_name = "événement d'audit"
        verbose_name_plural = "événements d'audit"

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.outcome}"


class AuditSeal(AppendOnlyModel):
    """The head of the chain at the end of a UTC day, itself chained to the previous seal.

    Each seal is also appended to an anchor file outside the database
    (``HDH_AUDIT_ANCHOR``), so that a log truncated together with its seals is
    still detected.
    """

    day = models.DateField(unique=True)
    head_seq = models.BigIntegerField()
    head_hash = models.CharField(max_length=64)
    event_count = models.BigIntegerField()
    sealed_at = models.DateTimeField()
    prev_seal_hash = models.CharField(max_length=64)
    seal_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["day"]
        verbose_name = "scellement du journal"
        verbose_name_plural = "scellements du journal"

    def __str__(self) -> str:
        return f"seal {self.day} @#{self.head_seq}"
