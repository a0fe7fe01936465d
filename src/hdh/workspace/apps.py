from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkspaceConfig(AppConfig):
    name = "hdh.workspace"
    label = "workspace"
    verbose_name = _("Espaces projet")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from hdh.workspace import permissions

        permissions.register()
