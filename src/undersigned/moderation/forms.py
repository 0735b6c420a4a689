from typing import Any

from django import forms
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from undersigned.core.forms import PlainTextField, SignerTextField
from undersigned.moderation import reasons


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=list(reasons.DECISION_LABELS.items()))
    entry = forms.IntegerField(required=False, min_value=1)
    reason = forms.ChoiceField(label=_("Reason"), choices=reasons.all_codes())
    # The moderator's own words: sealed with the identity at the decision,
    # never in the trail the organiser reads.
    note = PlainTextField(label=_("Note for the moderators"), max_length=1000, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        decision, code = data.get("decision"), data.get("reason")
        if decision and code:
            text = reasons.label(decision, code)
            if text is None:
                self.add_error("reason", _g("Choose one of the reasons given for this decision."))
            else:
                data["reason_text"] = text
        return data


class PaperSignatureForm(forms.Form):
    """One signature typed from a paper sheet (signing/paper.py checks the rest)."""

    sheet_reference = PlainTextField(
        label=_("Sheet"),
        max_length=120,
        help_text=_(
            "The reference the office files the sheet under, "
            "e.g. “Council session 12 March, sheet 2”."
        ),
    )
    full_name = SignerTextField(label=_("Full name"), max_length=120)
    show_name = forms.BooleanField(
        label=_("The signer chose on the sheet to be shown by name"), required=False
    )
    role = SignerTextField(label=_("Role"), max_length=120, required=False)
    municipality = SignerTextField(label=_("Municipality"), max_length=120, required=False)
    region = SignerTextField(label=_("Region"), max_length=120, required=False)
    register_entry = forms.IntegerField(
        label=_("Register entry number"),
        min_value=1,
        max_value=2**31 - 1,
        required=False,
        help_text=_("Leave empty to find the entry by name and municipality."),
    )

    def __init__(self, *args: Any, needs_register: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not needs_register:
            del self.fields["register_entry"]
        else:
            self.fields["role"].help_text = _(
                "As on the register, if two entries differ only by it."
            )


class SheetUploadForm(forms.Form):
    """A sheet as CSV, to preview; the preview's commit sends the same bytes back."""

    file = forms.FileField(
        label=_("CSV file"),
        required=False,
        widget=forms.FileInput(attrs={"accept": ".csv,.txt,text/csv"}),
    )
    # The previewed file, sent back by the preview's commit button.
    content = forms.CharField(widget=forms.HiddenInput, required=False)
    encoding = forms.ChoiceField(
        label=_("Text encoding"),
        choices=[("utf-8", "UTF-8"), ("windows-1251", "Windows-1251")],
        initial="utf-8",
    )
    sheet = PlainTextField(
        label=_("Sheet"),
        max_length=120,
        required=False,
        help_text=_("For lines whose “sheet” cell is empty, or a file without that column."),
    )
