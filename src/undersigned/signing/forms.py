import unicodedata
from functools import cached_property
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from undersigned.core.forms import HttpUrlField, SignerTextField
from undersigned.petitions.models import Petition, TextVersion
from undersigned.registers.models import RegisterEntry
from undersigned.registers.terms import canonical
from undersigned.signing import texts
from undersigned.signing.texts import text_read

# The register's words a signer may type in the page's language, per field:
# (the entries' column, the kind of word, its key in Register.translations).
TRANSLATED = (
    ("role", "role", "roles"),
    ("municipality", "municipality", "municipalities"),
    ("region", "region", "regions"),
)
# The fields whose register words the form suggests: the roles only. The
# places would list where the register has people, and a place with one
# deputy is one the page never names (docs/security.md, "Small cells").
SUGGESTED = ("role",)
# A register with more different roles than this suggests none: the list
# would weigh more than the page.
MAX_SUGGESTIONS = 300

VISIBILITY = [
    ("show", _("Show my name")),
    ("hide", _("Count me without showing my name")),
]


class SignForm(forms.Form):
    full_name = SignerTextField(label=_("Full name"), max_length=120)
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        help_text=_("We send a link to confirm; it is never shown."),
    )
    visibility = forms.ChoiceField(
        label=_("Visibility"), choices=VISIBILITY, widget=forms.RadioSelect, initial="show"
    )
    role = SignerTextField(label=_("Role"), max_length=120, required=False)
    municipality = SignerTextField(label=_("Municipality"), max_length=120, required=False)
    region = SignerTextField(label=_("Region"), max_length=120, required=False)
    evidence_url = HttpUrlField(
        label=_("Evidence link"),
        max_length=500,
        required=False,
        help_text=_("Optional: a page that shows you hold this office (official site, register)."),
    )
    updates = forms.BooleanField(
        label=_("Tell me about this petition's response and outcome"),
        required=False,
        help_text=_(
            "At most a few mails, each with a one-click unsubscribe. Your address is kept "
            "for this alone, until you unsubscribe or the petition's data is erased."
        ),
    )

    # The text the signer read (the page's hidden field, signing/texts.py),
    # once the form is cleaned; and its language, to show it again with the form.
    text_read: TextVersion | None = None
    read_language: str | None = None

    def __init__(self, *args: object, petition: Petition, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.petition = petition
        # On for public petitions, as people expect; off for register letters,
        # where staying out of any mailing list protects the signers.
        self.fields["updates"].initial = not petition.needs_register
        if petition.needs_register:
            self.fields["role"].required = True
            self.fields["municipality"].required = True
            self.fields["role"].help_text = _("As on the register, e.g. municipal deputy.")
            for name in SUGGESTED:
                self.fields[name].widget.attrs["list"] = f"{name}-suggestions"
        else:
            del self.fields["evidence_url"]

    @cached_property
    def suggestions(self) -> list[tuple[str, list[str]]]:
        """(datalist id, the register's words in the page's language) for each field
        that suggests them: a Russian deputy picks "муниципальный депутат"."""
        register = self.petition.register if self.petition.needs_register else None
        if register is None:
            return []
        terms = register.terms(get_language() or settings.LANGUAGE_CODE)
        found = []
        for name, kind, _key in (t for t in TRANSLATED if t[0] in SUGGESTED):
            stored = list(
                RegisterEntry.objects.filter(register=register)
                .order_by(name)
                .values_list(name, flat=True)
                .distinct()[: MAX_SUGGESTIONS + 1]
            )
            shown = {terms.show(kind, value) for value in stored if value}
            if len(stored) > MAX_SUGGESTIONS:
                shown = set()
            found.append((f"{name}-suggestions", sorted(shown, key=str.casefold)))
        return found

    def _stored_word(self, name: str) -> str:
        """What the signer typed, or the register's stored word if they typed its translation."""
        typed: str = self.cleaned_data.get(name, "")
        register = self.petition.register if self.petition.needs_register else None
        if register is None or not register.translations:
            return typed
        key = next(k for field, _kind, k in TRANSLATED if field == name)
        return canonical(key, typed, register.translations)

    def clean_role(self) -> str:
        return self._stored_word("role")

    def clean_municipality(self) -> str:
        return self._stored_word("municipality")

    def clean_region(self) -> str:
        return self._stored_word("region")

    def clean(self) -> dict[str, Any] | None:
        data = super().clean()
        try:
            self.text_read = text_read(self.petition, self.data.get(texts.FIELD))
        except texts.TextRefused as refused:
            self.read_language = refused.language
            raise ValidationError(str(refused)) from None
        self.read_language = self.text_read.language
        return data

    def clean_full_name(self) -> str:
        name: str = self.cleaned_data["full_name"]
        if not any(unicodedata.category(c).startswith("L") for c in name):
            raise ValidationError(_("Write your name in letters."))
        return name


class ConfirmForm(forms.Form):
    """Only the CSRF token: the POST itself is the confirmation."""
