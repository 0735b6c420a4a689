from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from undersigned.core.forms import HttpUrlField, PlainTextField
from undersigned.petitions.models import Outcome

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _text(value: str) -> str:
    text = value.replace("\r\n", "\n").strip()
    if "\x00" in text:
        raise ValidationError(_("The text contains a NUL character."))
    return text


class ResponseForm(forms.Form):
    answered_by = PlainTextField(
        label=gettext_lazy("Who answered"),
        max_length=200,
        help_text=gettext_lazy("As they signed it, e.g. “Head of the District Administration”."),
    )
    responded_on = forms.DateField(label=gettext_lazy("Date of the response"), widget=DATE)
    text = forms.CharField(
        label=gettext_lazy("The response"),
        max_length=20000,
        widget=forms.Textarea,
        help_text=gettext_lazy(
            "Exactly as the addressee sent it. Once published it is final and in the public log."
        ),
    )

    def clean_text(self) -> str:
        text = _text(self.cleaned_data["text"])
        if not text:
            raise ValidationError(_("Give the text of the response."))
        return text


class OutcomeForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What happened"), choices=Outcome.Kind.choices)
    happens_on = forms.DateField(label=gettext_lazy("Date of the debate"), widget=DATE)
    link = HttpUrlField(
        label=gettext_lazy("Link"),
        max_length=500,
        required=False,
        help_text=gettext_lazy("Optional: the debate's page, transcript or recording."),
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def clean_note(self) -> str:
        return _text(self.cleaned_data["note"])
