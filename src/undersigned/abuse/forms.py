from django import forms
from django.utils.translation import gettext_lazy as _

from undersigned.abuse.models import TrendingSource
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
