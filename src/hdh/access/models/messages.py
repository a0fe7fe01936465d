"""Threads between the applicant's team and the guichet, tied to one application."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hdh.access.models.applications import Application
from hdh.core import clock
from hdh.core.governance import GovernedModel

MESSAGE_LIMIT = 5000


class Message(GovernedModel):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Optional: the form question the message is about (a field name of Application).
    question = models.CharField(_("question"), max_length=40, blank=True)
    body = models.TextField(_("message"), max_length=MESSAGE_LIMIT)
    sent_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["application_id", "sent_at", "id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self) -> str:
        return f"{self.application_id} #{self.pk}"
