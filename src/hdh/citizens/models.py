"""What the portal keeps about citizens: as little as the service needs.

* ``ObjectionReceipt`` — for each objection filed on the portal, a keyed check of
  the birth date, so that a status page asks for the reference *and* the birth
  date. The identity itself lives only as a level-1 pseudonym in the register
  (:mod:`hdh.preparation.objections`); names are checked, never stored.
* ``RightsRequest`` — a GDPR request (access, rectification, objection). The
  data protection officer must identify and answer the person, so the request
  keeps the names, birth date and a contact address; never the NIR, only its
  level-1 pseudonym (to find the person's pseudonymised data). None of it goes
  to logs or audit payloads.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils.translation import gettext_lazy as _

from hdh.core.governance import GovernedModel


class ObjectionReceipt(GovernedModel):
    reference = models.CharField(max_length=20, unique=True)
    # HMAC-SHA256(secret, reference | birth date): the birth date is never stored.
    birth_check = models.CharField(max_length=64)
    filed_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.reference


class RightsKind(models.TextChoices):
    ACCESS = "access", _("Accès à mes données (article 15 du RGPD)")
    RECTIFICATION = "rectification", _("Rectification de mes données (article 16 du RGPD)")
    OBJECTION = "objection", _("Opposition au traitement (article 21 du RGPD)")
    OTHER = "other", _("Autre question au délégué à la protection des données")


class RightsStatus(models.TextChoices):
    RECEIVED = "received", _("Reçue, en cours de traitement")
    ANSWERED = "answered", _("Répondue")


class RightsRequest(GovernedModel):
    reference = models.CharField(max_length=20, unique=True)
    kind = models.CharField(max_length=20, choices=RightsKind.choices)
    message = models.TextField(max_length=5000)
    last_name = models.CharField(max_length=100)
    first_name = models.CharField(max_length=100)
    birth_date = models.DateField()
    email = models.EmailField(max_length=254)
    # Level-1 pseudonym of the NIR when one was given; the NIR itself is not kept.
    pseudonym = models.CharField(max_length=17, blank=True)
    filed_at = models.DateTimeField()
    due_on = models.DateField()
    status = models.CharField(
        max_length=20, choices=RightsStatus.choices, default=RightsStatus.RECEIVED
    )
    answer = models.TextField(max_length=10000, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ("due_on", "pk")

    def __str__(self) -> str:
        return self.reference

    def is_overdue(self, today: dt.date) -> bool:
        return self.status == RightsStatus.RECEIVED and today > self.due_on

    def days_left(self, today: dt.date) -> int:
        return (self.due_on - today).days
