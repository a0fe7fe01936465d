from django.apps import AppConfig


class LakeConfig(AppConfig):
    name = "hdh.lake"
    label = "lake"
    verbose_name = "Lac de données"

    def ready(self) -> None:
        from hdh.lake import panels, policies

        policies.register()
        panels.register()
