"""Field checks shared by every public form."""

import re
import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from undersigned.core import typed_text

CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]"
)


def clean_line(value: str, *, label: str) -> str:
    """One line of text as a person wrote it: NFC, single spaces, no control characters."""
    value = unicodedata.normalize("NFC", value)
    if CONTROL.search(value) or "\n" in value or "\r" in value:
        raise ValidationError(_("%(label)s must be plain text on one line.") % {"label": label})
    return " ".join(value.split())


class PlainTextField(forms.CharField):
    """A single-line text field that refuses control characters."""

    def to_python(self, value: object) -> str:
        text = super().to_python(value) or ""
        if text:
            text = clean_line(text, label=str(self.label or _("This field")))
        return text


class SignerTextField(PlainTextField):
    """A signer's name, role or place: plain text that is no formula, link or markup.

    It is mailed, listed and exported as typed (core/typed_text.py says why).
    """

    def validate(self, value: object) -> None:
        super().validate(value)
        why = typed_text.problem(str(value or ""), str(self.label or _("This field")))
        if why:
            raise ValidationError(why)


class HttpUrlField(forms.URLField):
    """A link a moderator may click: http or https only."""

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("assume_scheme", "https")
        super().__init__(**kwargs)  # type: ignore[arg-type]

    def clean(self, value: object) -> str:
        url: str = super().clean(value)
        if url and not url.lower().startswith(("http://", "https://")):
            raise ValidationError(_("Give a web link starting with http:// or https://."))
        return url
