from django.apps import AppConfig


class RegistersConfig(AppConfig):
    name = "undersigned.registers"
    label = "registers"
