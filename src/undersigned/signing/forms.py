import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from undersigned.core.forms import HttpUrlField, SignerTextField
from undersigned.petitions.models import Petition

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
        else:
            del self.fields["evidence_url"]

    def clean_full_name(self) -> str:
        name: str = self.cleaned_data["full_name"]
        if not any(unicodedata.category(c).startswith("L") for c in name):
            raise ValidationError(_("Write your name in letters."))
        return name


class ConfirmForm(forms.Form):
    """Only the CSRF token: the POST itself is the confirmation."""
