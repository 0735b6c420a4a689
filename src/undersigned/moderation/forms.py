from django import forms

from undersigned.core.forms import PlainTextField


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", "Approve"), ("reject", "Reject"), ("invalidate", "Invalidate")]
    )
    entry = forms.IntegerField(required=False, min_value=1)
    reason = PlainTextField(max_length=500, required=False)
