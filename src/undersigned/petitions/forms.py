from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from undersigned.core.forms import PlainTextField, SignerTextField
from undersigned.petitions.models import Petition
from undersigned.registers.models import Register


class PetitionForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"), choices=Petition.Kind.choices, initial=Petition.Kind.PETITION
    )
    title = PlainTextField(label=gettext_lazy("Title"), max_length=200)
    body = forms.CharField(label=gettext_lazy("Text"), max_length=20000, widget=forms.Textarea)
    # Languages are named in their own language, as in the switch in the header.
    language = forms.ChoiceField(
        label=gettext_lazy("Language of the text"), choices=settings.LANGUAGES, initial="en"
    )
    organiser_name = PlainTextField(
        label=gettext_lazy("Organiser shown to the public"), max_length=200
    )
    addressee = PlainTextField(
        label=gettext_lazy("Addressed to"),
        max_length=200,
        required=False,
        help_text=gettext_lazy(
            "A person, an office or a body, e.g. the City Council of Kolpino. "
            "The page shows “To: …”."
        ),
    )
    addressee_email = forms.EmailField(
        label=gettext_lazy("The addressee's address for notices"),
        max_length=254,
        required=False,
        help_text=gettext_lazy(
            "Optional. The site mails it when a step is reached (asking for a response). "
            "Never shown."
        ),
    )
    audience = forms.ChoiceField(
        label=gettext_lazy("Who may sign"),
        choices=Petition.Audience.choices,
        widget=forms.RadioSelect,
        initial=Petition.Audience.ANYONE,
    )
    register = forms.ModelChoiceField(
        label=gettext_lazy("Register"), queryset=Register.objects.all(), required=False
    )
    thresholds = forms.CharField(
        label=gettext_lazy("Thresholds"),
        required=False,
        max_length=200,
        help_text=gettext_lazy(
            "Milestones of verified signatures, separated by commas, e.g. 100, 1000."
        ),
    )
    response_threshold = forms.IntegerField(
        label=gettext_lazy("Verified signatures at which the addressee is asked to respond"),
        min_value=0,
        max_value=1_000_000_000,
        required=False,
        help_text=gettext_lazy("Empty: the site's (%(n)s). 0: no such step."),
    )
    debate_threshold = forms.IntegerField(
        label=gettext_lazy("Verified signatures at which it is considered for a debate"),
        min_value=0,
        max_value=1_000_000_000,
        required=False,
        help_text=gettext_lazy("Empty: the site's (%(n)s). 0: no such step."),
    )
    deadline = forms.DateTimeField(
        label=gettext_lazy("Deadline"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=gettext_lazy("Optional. Signing closes automatically at this time."),
    )

    retention_days = forms.IntegerField(
        label=gettext_lazy("Keep signers' contact data for (days after closing)"),
        min_value=1,
        max_value=3650,
        initial=90,
        required=False,
        help_text=gettext_lazy(
            "Then addresses, hidden names and evidence links are erased; counts stay."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, default in (
            ("response_threshold", settings.RESPONSE_THRESHOLD),
            ("debate_threshold", settings.DEBATE_THRESHOLD),
        ):
            field = self.fields[name]
            field.help_text = str(field.help_text) % {"n": f"{default:,}".replace(",", " ")}

    def clean_retention_days(self) -> int:
        days: int | None = self.cleaned_data["retention_days"]
        return 90 if days is None else days

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"].replace("\r\n", "\n").strip()
        if "\x00" in body:
            raise ValidationError(_("The text contains a NUL character."))
        if not body:
            raise ValidationError(_("Write the text people will sign."))
        return body

    def clean_thresholds(self) -> list[int]:
        raw: str = self.cleaned_data["thresholds"]
        values: list[int] = []
        for part in raw.replace(";", ",").split(","):
            part = part.strip().replace(" ", "")
            if not part:
                continue
            if not part.isdigit() or not 0 < int(part) <= 1_000_000_000:
                raise ValidationError(
                    _("“%(value)s” is not a whole number between 1 and 10⁹.") % {"value": part[:20]}
                )
            values.append(int(part))
        if len(values) > 10:
            raise ValidationError(_("Give at most ten milestones."))
        return sorted(set(values))

    def clean_deadline(self) -> datetime | None:
        deadline: datetime | None = self.cleaned_data["deadline"]
        if deadline is not None and deadline <= timezone.now():
            raise ValidationError(_("The deadline must be in the future."))
        return deadline

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("audience") == Petition.Audience.REGISTER and not data.get("register"):
            self.add_error("register", _("Choose the register of people who may sign."))
        if data.get("audience") == Petition.Audience.ANYONE:
            data["register"] = None
        return data


class NewVersionForm(forms.Form):
    title = PlainTextField(label=gettext_lazy("Title"), max_length=200)
    body = forms.CharField(label=gettext_lazy("Text"), max_length=20000, widget=forms.Textarea)
    language = forms.ChoiceField(
        label=gettext_lazy("Language of the text"), choices=settings.LANGUAGES
    )
    change_note = PlainTextField(
        label=gettext_lazy("What changed"),
        max_length=500,
        help_text=gettext_lazy(
            "Shown on the petition page; signers of earlier versions keep their version."
        ),
    )

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"].replace("\r\n", "\n").strip()
        if "\x00" in body:
            raise ValidationError(_("The text contains a NUL character."))
        return body


class FounderForm(forms.Form):
    full_name = SignerTextField(label=gettext_lazy("Full name"), max_length=120)
    email = forms.EmailField(
        label=gettext_lazy("Email"),
        max_length=254,
        help_text=gettext_lazy("They confirm by the link we send."),
    )
    role = SignerTextField(label=gettext_lazy("Role"), max_length=120, required=False)
    municipality = SignerTextField(
        label=gettext_lazy("Municipality"), max_length=120, required=False
    )
    region = SignerTextField(label=gettext_lazy("Region"), max_length=120, required=False)
    show_name = forms.BooleanField(
        required=False, initial=True, label=gettext_lazy("Show the name")
    )


class AddresseeNoticeForm(forms.Form):
    """The addressee's address for notices, changed after publishing (the rest is frozen)."""

    addressee_email = forms.EmailField(
        label=gettext_lazy("The addressee's address for notices"),
        max_length=254,
        required=False,
        help_text=gettext_lazy(
            "The site mails it when a step is reached. Empty: nobody is mailed. Never shown."
        ),
    )


class TranslationForm(forms.Form):
    """A translation of the current text into another of the site's languages."""

    language = forms.ChoiceField(label=gettext_lazy("Language of the translation"), choices=[])
    title = PlainTextField(label=gettext_lazy("Title"), max_length=200)
    body = forms.CharField(label=gettext_lazy("Text"), max_length=20000, widget=forms.Textarea)

    def __init__(self, *args: Any, languages: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["language"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = languages

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"].replace("\r\n", "\n").strip()
        if "\x00" in body:
            raise ValidationError(_("The text contains a NUL character."))
        if not body:
            raise ValidationError(_("Write the translated text."))
        return body
