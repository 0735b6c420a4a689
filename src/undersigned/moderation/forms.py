from typing import Any

from django import forms
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from undersigned.core.forms import PlainTextField
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
