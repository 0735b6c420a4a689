from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from undersigned.core.fields import EncryptedTextField
from undersigned.registers.terms import Terms, problems, terms_for


class Register(models.Model):
    """A list of the people eligible to sign a restricted letter, e.g. a region's deputies."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    # Its name, places and roles as pages in other languages show them, per
    # language (registers/terms.py); the entries keep the words they were
    # imported with, which tallies, the log and matching use.
    translations = models.JSONField(
        default=dict,
        blank=True,
        help_text=(
            'Per language: {"ru": {"name": "…", "regions": {"St Petersburg": "Санкт-Петербург"}, '
            '"municipalities": {…}, "roles": {…}}}. Words not given are shown as stored.'
        ),
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        found = problems(self.translations, [code for code, _ in settings.LANGUAGES])
        if found:
            raise ValidationError({"translations": found})

    def terms(self, language: str) -> Terms:
        """Its words as a page in `language` shows them."""
        return terms_for(
            self.translations or {}, language, name=self.name, description=self.description
        )


class RegisterEntry(models.Model):
    register = models.ForeignKey(Register, models.CASCADE, related_name="entries")
    full_name = models.CharField(max_length=200)
    role = models.CharField(max_length=200)
    municipality = models.CharField(max_length=200)
    region = models.CharField(max_length=200)
    # The official contact, when the register has one: a confirmation sent
    # there is what lets a claim verify without a moderator.
    official_email = EncryptedTextField(purpose="register.official_email", blank=True)
    official_email_hash = models.CharField(max_length=64, blank=True, db_index=True)
    name_key = models.CharField(max_length=300, db_index=True)
    place_key = models.CharField(max_length=300)

    class Meta:
        ordering = ["region", "municipality", "full_name"]
        verbose_name_plural = "register entries"
        constraints = [
            models.UniqueConstraint(
                fields=["register", "name_key", "place_key", "role"],
                name="unique_register_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.role}, {self.municipality})"
