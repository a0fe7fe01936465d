from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "hdh.accounts"
    label = "accounts"
    verbose_name = "Comptes"
