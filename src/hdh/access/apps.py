from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    name = "hdh.access"
    label = "access"
    verbose_name = _("Guichet des demandes d'accès")

    def ready(self) -> None:
        from hdh.access import permissions

        permissions.register()
