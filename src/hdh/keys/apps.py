from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KeysConfig(AppConfig):
    name = "hdh.keys"
    label = "keys"
    verbose_name = _("Clés de pseudonymisation")

    def ready(self) -> None:
        from hdh.keys import checks  # noqa: F401  (registers the system check)
