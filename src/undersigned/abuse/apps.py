from django.apps import AppConfig


class AbuseConfig(AppConfig):
    name = "undersigned.abuse"
    label = "abuse"
