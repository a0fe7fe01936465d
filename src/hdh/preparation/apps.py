from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PreparationConfig(AppConfig):
    name = "hdh.preparation"
    label = "preparation"
    verbose_name = _("Préparation des données")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from hdh.preparation import permissions

        permissions.register()
