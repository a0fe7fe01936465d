from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "hdh.audit"
    label = "audit"
    verbose_name = "Journal d'audit"
