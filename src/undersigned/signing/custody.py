"""What the server stops holding once a signature is decided.

Until a signature is decided the server needs its contact details: to send
the confirmation, and for a moderator to review a claim. From the moment it
is verified, rejected, withdrawn or invalidated, it needs only what is
public. Everything else (the address, the evidence link, and, unless the
signer is shown in the public log, the name and the register entry) is sealed
to the petition's custody key and the server's own copy is destroyed: a
seized server and its environment open none of it. With no custody key set,
the values are destroyed outright; nobody can open them later.

The register entry a hidden signer holds is replaced by a keyed hash, which
keeps "one verified signature per register entry" enforceable, and by the
entry's place, which the per-place tallies need.
"""

import base64
from typing import Any

from django.db.models import Q
from django.utils import timezone

from undersigned.core import custody
from undersigned.core.hashing import keyed_hash
from undersigned.petitions.models import Petition
from undersigned.signing.models import Signature

State = Signature.State
DECIDED_STATES = (State.VERIFIED, State.REJECTED, State.WITHDRAWN, State.INVALIDATED)
# Fields the sealing clears; save them with update_fields when sealing alone.
SEALED_FIELDS = [
    "full_name",
    "email",
    "evidence_url",
    "register_entry",
    "region",
    "municipality",
    "log_salt",
    "custody_sealed",
    "sealed_at",
]


def entry_key(petition_id: int, entry_id: int) -> str:
    return keyed_hash("register-entry", f"{petition_id}:{entry_id}")


def shown_publicly(signature: Signature) -> bool:
    """The signer's name and entry are in the public log (they chose to be shown)."""
    return signature.show_name and signature.verified_entry_id is not None


def seal_decided(signature: Signature, *, force: bool = False) -> bool:
    """Seal away what the server no longer needs of a decided signature (unsaved).

    `force` seals an undecided one too (an expired, never confirmed signature).
    Returns whether anything changed.
    """
    if signature.state not in DECIDED_STATES and not force:
        return False
    payload: dict[str, Any] = {}
    if signature.email:
        payload["email"] = signature.email
        signature.email = ""
    if signature.evidence_url:
        payload["evidence_url"] = signature.evidence_url
        signature.evidence_url = ""
    if signature.log_salt:
        # With the salt, the register's names could be tried against the commitment.
        payload["log_salt_hex"] = bytes(signature.log_salt).hex()
        signature.log_salt = None
    if signature.moderator_note:
        payload["moderator_note"] = signature.moderator_note
        signature.moderator_note = ""
    if not shown_publicly(signature):
        if signature.full_name:
            payload["full_name"] = signature.full_name
            signature.full_name = ""
        entry = signature.register_entry
        if entry is not None:
            payload["register_entry"] = {
                "id": entry.pk,
                "full_name": entry.full_name,
                "role": entry.role,
                "municipality": entry.municipality,
                "region": entry.region,
            }
            # The tallies count this signature at the entry's place.
            signature.region, signature.municipality = entry.region, entry.municipality
            signature.register_entry = None
    if not payload:
        return False
    payload.update(
        signature=signature.pk,
        petition=signature.petition.slug,
        state=signature.state,
        role=signature.role,
        sealed_at=timezone.now().isoformat(),
    )
    recipient = signature.petition.custody_key()
    if recipient:
        box = base64.b64encode(custody.seal(recipient, payload)).decode()
        signature.custody_sealed = "\n".join(filter(None, [signature.custody_sealed, box]))
    signature.sealed_at = timezone.now()
    return True


def seal_expired(now: Any = None) -> int:
    """Seal the contact details of signatures whose confirmation link expired unused.

    Nobody confirmed them, so nothing will be sent to them again: signing
    again, with the address typed anew, makes a new link.
    """
    now = now or timezone.now()
    stale = (
        Signature.objects.filter(state=State.UNCONFIRMED, confirm_token_expires__lt=now)
        .filter(~Q(email="") | ~Q(full_name=""))
        .select_related("petition", "register_entry")
    )
    sealed = 0
    for signature in stale.iterator(chunk_size=500):
        if seal_decided(signature, force=True):
            signature.save(update_fields=SEALED_FIELDS)
            sealed += 1
    return sealed


def export_rows(petition: Petition) -> Any:
    """The petition's sealed boxes, for the moderators' `undersigned custody open`."""
    rows = (
        Signature.objects.filter(petition=petition)
        .exclude(custody_sealed="")
        .order_by("pk")
        .values_list("pk", "state", "custody_sealed")
    )
    for pk, state, sealed in rows.iterator(chunk_size=2000):
        for box in sealed.splitlines():
            yield {"signature": pk, "state": state, "box": box}

