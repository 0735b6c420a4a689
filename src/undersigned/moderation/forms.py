from django import forms
from django.utils.translation import gettext_lazy as _

from undersigned.core.forms import PlainTextField


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[
            ("approve", _("Approve")),
            ("reject", _("Reject")),
            ("invalidate", _("Invalidate")),
        ]
    )
    entry = forms.IntegerField(required=False, min_value=1)
    reason = PlainTextField(label=_("Reason"), max_length=500, required=False)
