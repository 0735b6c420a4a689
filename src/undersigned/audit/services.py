from typing import Any

from django.contrib.auth.models import AnonymousUser, User

from undersigned.audit.models import AuditEvent
from undersigned.petitions.models import Petition
from undersigned.signing.models import Signature


def record(
    action: str,
    *,
    actor: User | AnonymousUser | None,
    petition: Petition | None,
    signature: Signature | None = None,
    reason: str = "",
    **details: Any,
) -> AuditEvent:
    user = actor if isinstance(actor, User) else None
    return AuditEvent.objects.create(
        actor=user,
        actor_name=user.get_username() if user else "",
        action=action,
        petition=petition,
        signature=signature,
        reason=reason[:1000],
        details=details,
    )
