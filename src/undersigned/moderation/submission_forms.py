"""The forms of the submissions' review and of the standards' editing."""

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from undersigned.core.forms import PlainTextField
from undersigned.petitions.models import Standard

DECISIONS = [
    ("publish", pgettext_lazy("moderation decision", "Publish")),
    ("reject", pgettext_lazy("moderation decision", "Reject")),
    ("send_back", pgettext_lazy("moderation decision", "Send back for changes")),
]


def _text(value: str) -> str:
    text = value.replace("\r\n", "\n").strip()
    if "\x00" in text:
        raise ValidationError(_g("The text contains a NUL character."))
    return text


class StandardChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.title)


class SubmissionDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=DECISIONS)
    standard = StandardChoice(
        label=_("Standard it fails"),
        queryset=Standard.objects.filter(retired=False).prefetch_related("texts"),
        to_field_name="code",
        required=False,
        empty_label=_("— choose when rejecting —"),
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Mailed to the creator. A rejection's note is public beside its reason, "
            "unless the standard hides the text; sending back needs one."
        ),
    )
    # The original of a duplicate: one of the lookalikes shown (radio buttons),
    # or another petition's slug or link typed in.
    original = forms.CharField(required=False, max_length=80)
    original_slug = PlainTextField(
        label=_("Or another petition's address"),
        required=False,
        max_length=300,
        help_text=_("Its slug or its link, e.g. /p/clean-air-for-kolpino/."),
    )

    def clean_note(self) -> str:
        return _text(self.cleaned_data["note"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        decision = data.get("decision")
        if decision == "reject" and not data.get("standard") and "standard" not in self.errors:
            self.add_error("standard", _g("Choose the standard it fails."))
        if decision == "send_back" and not data.get("note") and "note" not in self.errors:
            self.add_error("note", _g("Say what the creator should change: they read your note."))
        data["original"] = (data.get("original_slug") or data.get("original") or "").strip()
        return data


class StandardForm(forms.Form):
    """A standard and its wording in each of the site's languages."""

    code = forms.SlugField(
        label=_("Code"),
        max_length=40,
        help_text=_("Its anchor on /standards/, e.g. “defamatory”. It cannot be changed later."),
    )
    position = forms.IntegerField(
        label=_("Position"), min_value=0, max_value=10_000, initial=100
    )
    hides_text = forms.BooleanField(
        label=_("A petition rejected for it is listed without its title or text"),
        required=False,
    )
    names_original = forms.BooleanField(
        label=_("A rejection for it names the original petition (a duplicate)"), required=False
    )
    retired = forms.BooleanField(
        label=_("Retired: no longer offered, nor published (past decisions keep it)"),
        required=False,
    )

    def __init__(self, *args: Any, existing: Standard | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.existing = existing
        if existing is not None:
            del self.fields["code"]
        for code, name in settings.LANGUAGES:
            required = code == settings.LANGUAGE_CODE
            self.fields[f"title_{code}"] = PlainTextField(
                label=_("Title (%(language)s)") % {"language": name},
                max_length=200,
                required=required,
            )
            self.fields[f"text_{code}"] = forms.CharField(
                label=_("Explanation (%(language)s)") % {"language": name},
                max_length=4000,
                required=required,
                widget=forms.Textarea(attrs={"rows": 4}),
            )

    def languages(self) -> list[tuple[str, str]]:
        return list(settings.LANGUAGES)

    def clean_code(self) -> str:
        code: str = self.cleaned_data["code"].lower()
        if code == "new" or Standard.objects.filter(code=code).exists():
            raise ValidationError(_g("Another standard has this code."))
        return code

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for code, _name in settings.LANGUAGES:
            for key in (f"title_{code}", f"text_{code}"):
                if isinstance(data.get(key), str):
                    try:
                        data[key] = _text(data[key])
                    except ValidationError as exc:
                        self.add_error(key, exc)
            title, text = data.get(f"title_{code}"), data.get(f"text_{code}")
            if bool(title) != bool(text):
                missing = f"text_{code}" if title else f"title_{code}"
                if missing not in self.errors:
                    self.add_error(missing, _g("Give both the title and the explanation."))
        return data
