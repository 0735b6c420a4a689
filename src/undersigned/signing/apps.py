from django.apps import AppConfig


class SigningConfig(AppConfig):
    name = "undersigned.signing"
    label = "signing"
