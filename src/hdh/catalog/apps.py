from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "hdh.catalog"
    label = "catalog"
    verbose_name = "Catalogue"

    def ready(self) -> None:
        from hdh.catalog import policies

        policies.register()
