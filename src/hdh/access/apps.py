from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    name = "hdh.access"
    label = "access"
    verbose_name = _("Guichet des demandes d'accès")

    def ready(self) -> None:
        from django.conf import settings

        from hdh.access import deadlines, permissions

        deadlines.check_configuration(getattr(settings, "HDH_ACCESS_DEADLINES", None))
        permissions.register()
