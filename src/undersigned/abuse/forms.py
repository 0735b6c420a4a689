from django import forms
from django.utils.translation import gettext_lazy as _

from undersigned.abuse.models import BlockedSource, TrendingSource
from undersigned.core.forms import PlainTextField


class BulkInvalidationForm(forms.Form):
    petition = forms.SlugField(max_length=80)
    kind = forms.ChoiceField(choices=TrendingSource.Kind.choices)
    value = forms.CharField(max_length=255)
    start = forms.DateTimeField()
    end = forms.DateTimeField()
    reason = PlainTextField(
        label=_("Public reason"), max_length=500, help_text=_("Public: it is written to the log.")
    )


# What a petition field of BlockForm holds to mean "every petition".
EVERY_PETITION = "*"


class BlockForm(forms.Form):
    kind = forms.ChoiceField(label=_("What"), choices=BlockedSource.Kind.choices)
    value = PlainTextField(
        label=_("Domain or network"),
        max_length=255,
        help_text=_("A mail domain (mail.example.org) or a network (203.0.113.0/24)."),
    )
    # A slug, or EVERY_PETITION; checked against the petitions the moderator may act on.
    petition = forms.CharField(label=_("Petition"), max_length=80)
    reason = PlainTextField(
        label=_("Reason"),
        max_length=500,
        help_text=_("Kept in the audit trail; not shown to the refused signer."),
    )


class UnblockForm(forms.Form):
    reason = PlainTextField(label=_("Reason"), max_length=500)
