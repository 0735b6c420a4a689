"""The reasons a moderator gives for a decision, chosen from a list.

The organiser, the signer and (for an invalidation) the public log read the
reason, so it must never name a hidden signer: a typed sentence such as
"Matches register entry Anna Vetrova, Kolpino" would. The moderator's own
words go in a note, which is sealed with the signature's identity to the
petition's custody key at the decision (signing/custody.py).

The labels are English msgids: what is stored is the English text (the log
is in one language), and mails and pages translate it when they show it.
"""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

# decision -> [(code, label)]
REASONS: dict[str, list[tuple[str, str]]] = {
    "approve": [
        ("register-match", gettext_noop("Matches the register entry")),
        ("evidence-checked", gettext_noop("Evidence checked against the register")),
        ("contact-confirmed", gettext_noop("Confirmed through the register's contact")),
    ],
    "reject": [
        ("not-on-register", gettext_noop("Not found on the register")),
        ("evidence-insufficient", gettext_noop("The evidence does not show the claim")),
        ("entry-taken", gettext_noop("The register entry already has a verified signature")),
        ("duplicate", gettext_noop("A duplicate of another signature")),
        ("not-the-person", gettext_noop("Not the person the signature names")),
    ],
    "invalidate": [
        ("forged", gettext_noop("Found to be forged")),
        ("fraud-wave", gettext_noop("Part of a fraud wave")),
        ("ineligible", gettext_noop("Not eligible to sign")),
        ("signer-request", gettext_noop("Withdrawn by a moderator at the signer's request")),
        # A paper signature typed wrongly: the sheet does not say what was entered.
        ("entered-by-mistake", gettext_noop("Entered from paper by mistake")),
    ],
}

DECISION_LABELS = {"approve": _("Approve"), "reject": _("Reject"), "invalidate": _("Invalidate")}


def label(decision: str, code: str) -> str | None:
    """The stored (English) reason for a code, or None if the decision has no such reason."""
    return dict(REASONS.get(decision, [])).get(code)


def all_codes() -> list[tuple[str, str]]:
    return [(code, text) for reasons in REASONS.values() for code, text in reasons]
