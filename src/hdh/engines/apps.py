from django.apps import AppConfig


class EnginesConfig(AppConfig):
    name = "hdh.engines"
    label = "engines"
    verbose_name = "Moteurs de données"
