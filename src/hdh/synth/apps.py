from django.apps import AppConfig


class SynthConfig(AppConfig):
    name = "hdh.synth"
    label = "synth"
    verbose_name = "Données synthétiques"
