from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "hdh.core"
    label = "core"
    verbose_name = "hdh kernel"
