from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AirlockConfig(AppConfig):
    name = "hdh.airlock"
    label = "airlock"
    verbose_name = _("Sas de sortie des résultats")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from hdh.airlock import permissions, storage

        storage.policy()  # a malformed HDH_AIRLOCK_POLICY stops the start-up
        permissions.register()
