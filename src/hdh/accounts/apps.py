from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "hdh.accounts"
    label = "accounts"
    verbose_name = _("Comptes")

    def ready(self) -> None:
        from django.contrib.auth.models import update_last_login
        from django.contrib.auth.signals import user_logged_in

        from hdh.accounts import signals  # noqa: F401  (connects the receivers)

        # hdh.accounts.signals.stamp_session sets last_login from the platform clock.
        user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
