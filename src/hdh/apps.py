from django.apps import AppConfig


class HdhConfig(AppConfig):
    """The wiring package: platform-wide commands (demo, serve, worker)."""

    name = "hdh"
    label = "hdh"
    verbose_name = "hdh"
