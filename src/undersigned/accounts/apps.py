from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "undersigned.accounts"
    label = "accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from undersigned.accounts.sessions import stamp

        user_logged_in.connect(stamp, dispatch_uid="undersigned.accounts.sessions.stamp")
