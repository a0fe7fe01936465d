from django.apps import AppConfig


class CitizensConfig(AppConfig):
    name = "hdh.citizens"
    label = "citizens"
    verbose_name = "Citizens' portal"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from hdh.citizens import panels

        panels.register()
