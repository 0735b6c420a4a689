from datetime import datetime

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from undersigned.core.forms import PlainTextField
from undersigned.petitions.models import Petition
from undersigned.registers.models import Register


class PetitionForm(forms.Form):
    kind = forms.ChoiceField(choices=Petition.Kind.choices, initial=Petition.Kind.PETITION)
    title = PlainTextField(max_length=200)
    body = forms.CharField(label="Text", max_length=20000, widget=forms.Textarea)
    language = forms.ChoiceField(choices=settings.LANGUAGES, initial="en")
    organiser_name = PlainTextField(label="Organiser shown to the public", max_length=200)
    audience = forms.ChoiceField(
        label="Who may sign",
        choices=Petition.Audience.choices,
        widget=forms.RadioSelect,
        initial=Petition.Audience.ANYONE,
    )
    register = forms.ModelChoiceField(queryset=Register.objects.all(), required=False)
    thresholds = forms.CharField(
        required=False,
        max_length=200,
        help_text="Milestones of verified signatures, separated by commas, e.g. 100, 1000.",
    )
    deadline = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Optional. Signing closes automatically at this time.",
    )

    retention_days = forms.IntegerField(
        label="Keep signers' contact data for (days after closing)",
        min_value=1,
        max_value=3650,
        initial=90,
        required=False,
        help_text="Then addresses, hidden names and evidence links are erased; counts stay.",
    )

    def clean_retention_days(self) -> int:
        days: int | None = self.cleaned_data["retention_days"]
        return 90 if days is None else days

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"].replace("\r\n", "\n").strip()
        if "\x00" in body:
            raise ValidationError("The text contains a NUL character.")
        if not body:
            raise ValidationError("Write the text people will sign.")
        return body

    def clean_thresholds(self) -> list[int]:
        raw: str = self.cleaned_data["thresholds"]
        values: list[int] = []
        for part in raw.replace(";", ",").split(","):
            part = part.strip().replace(" ", "")
            if not part:
                continue
            if not part.isdigit() or not 0 < int(part) <= 1_000_000_000:
                raise ValidationError(f"“{part[:20]}” is not a whole number between 1 and 10⁹.")
            values.append(int(part))
        if len(values) > 10:
            raise ValidationError("Give at most ten milestones.")
        return sorted(set(values))

    def clean_deadline(self) -> datetime | None:
        deadline: datetime | None = self.cleaned_data["deadline"]
        if deadline is not None and deadline <= timezone.now():
            raise ValidationError("The deadline must be in the future.")
        return deadline

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("audience") == Petition.Audience.REGISTER and not data.get("register"):
            self.add_error("register", "Choose the register of people who may sign.")
        if data.get("audience") == Petition.Audience.ANYONE:
            data["register"] = None
        return data


class NewVersionForm(forms.Form):
    title = PlainTextField(max_length=200)
    body = forms.CharField(label="Text", max_length=20000, widget=forms.Textarea)
    language = forms.ChoiceField(choices=settings.LANGUAGES)
    change_note = PlainTextField(
        label="What changed",
        max_length=500,
        help_text="Shown on the petition page; signers of earlier versions keep their version.",
    )

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"].replace("\r\n", "\n").strip()
        if "\x00" in body:
            raise ValidationError("The text contains a NUL character.")
        return body


class FounderForm(forms.Form):
    full_name = PlainTextField(max_length=120)
    email = forms.EmailField(max_length=254, help_text="They confirm by the link we send.")
    role = PlainTextField(max_length=120, required=False)
    municipality = PlainTextField(max_length=120, required=False)
    region = PlainTextField(max_length=120, required=False)
    show_name = forms.BooleanField(required=False, initial=True, label="Show the name")
