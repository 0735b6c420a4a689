from django.apps import AppConfig


class PetitionsConfig(AppConfig):
    name = "undersigned.petitions"
    label = "petitions"
