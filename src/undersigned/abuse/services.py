"""Trending sources and bulk invalidation, the moderator's tools against a fraud wave."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from undersigned.abuse.models import BulkInvalidation, SigningSource, TrendingSource
from undersigned.abuse.sources import HASH_LENGTH
from undersigned.audit import services as audit
from undersigned.core.hashing import keyed_hash
from undersigned.core.progress import Report, silent
from undersigned.petitions.models import Petition
from undersigned.signing import services as signing
from undersigned.signing.models import Signature

# (stage, done, total): how a long bulk action tells a terminal how far it got.


def detect_trending(now: datetime | None = None) -> int:
    """Flag networks and mail domains with many signatures on one petition in the last hour."""
    end = (now or timezone.now()).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(hours=1)
    recent = SigningSource.objects.filter(created__gte=start, created__lt=end)
    found = 0
    for kind, column, threshold in (
        (TrendingSource.Kind.NETWORK, "network_hash", settings.TRENDING_NETWORK_THRESHOLD),
        (TrendingSource.Kind.DOMAIN, "email_domain", settings.TRENDING_DOMAIN_THRESHOLD),
    ):
        rows = (
            recent.values("petition_id", column)
            .annotate(n=Count("signature_id"))
            .filter(n__gte=threshold)
        )
        for row in rows:
            fill_times = dict(
                recent.filter(petition_id=row["petition_id"], **{column: row[column]})
                .values_list("fill_time")
                .annotate(n=Count("signature_id"))
                .order_by()
            )
            TrendingSource.objects.update_or_create(
                petition_id=row["petition_id"],
                kind=kind,
                value=row[column],
                window_start=start,
                defaults={"window_end": end, "count": row["n"], "fill_times": fill_times},
            )
            found += 1
    return found


HASHED_DOMAIN = "h:"


def hashed_domain(domain: str) -> str:
    """What a source keeps of its mail domain once the trending window is over."""
    return HASHED_DOMAIN + keyed_hash("mail-domain", domain)[:HASH_LENGTH]


def hash_old_domains(now: datetime | None = None) -> int:
    """Replace mail domains older than SOURCE_DOMAIN_CLEAR_HOURS by their keyed hash.

    Trending detection reads the last hour in the clear; after that a rare
    domain (a small employer's, a council's) would say too much about who
    signed, so a bulk invalidation by domain matches its keyed hash instead.
    """
    cutoff = (now or timezone.now()) - timedelta(hours=settings.SOURCE_DOMAIN_CLEAR_HOURS)
    stale = SigningSource.objects.filter(created__lt=cutoff).exclude(
        email_domain__startswith=HASHED_DOMAIN
    )
    changed = 0
    for domain in stale.values_list("email_domain", flat=True).distinct().iterator():
        changed += stale.filter(email_domain=domain).update(email_domain=hashed_domain(domain))
    return changed


def purge_old_sources(now: datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - timedelta(days=settings.ABUSE_RETENTION_DAYS)
    deleted, _ = SigningSource.objects.filter(created__lt=cutoff).delete()
    TrendingSource.objects.filter(window_end__lt=cutoff).delete()
    return deleted


def sources_in_window(
    petition: Petition, start: datetime, end: datetime
) -> "QuerySet[SigningSource]":
    """The sources of a petition's signatures in [start, end)."""
    return SigningSource.objects.filter(petition=petition, created__gte=start, created__lt=end)


def matching_sources(
    petition: Petition, kind: str, value: str, start: datetime, end: datetime
) -> "QuerySet[SigningSource]":
    """The sources of one network or mail domain on a petition in [start, end)."""
    found = sources_in_window(petition, start, end)
    if kind == TrendingSource.Kind.NETWORK:
        return found.filter(network_hash=value)
    # Recent sources hold the domain, older ones its keyed hash (hash_old_domains).
    return found.filter(email_domain__in=[value, hashed_domain(value)])


def matching(
    petition: Petition, kind: str, value: str, start: datetime, end: datetime
) -> "list[int]":
    return list(
        matching_sources(petition, kind, value, start, end).values_list("signature_id", flat=True)
    )


def bulk_invalidate(
    petition: Petition,
    actor: User | AnonymousUser,
    *,
    kind: str,
    value: str,
    start: datetime,
    end: datetime,
    reason: str,
    progress: Report = silent,
) -> BulkInvalidation:
    """Invalidate every live signature from one source in a time window, with a public reason."""
    reason = reason.strip()
    if not reason:
        raise signing.SigningError(gettext("Give a reason: it is shown in the public log."))
    if end <= start:
        raise signing.SigningError(gettext("The window must end after it starts."))
    changed: list[list[object]] = []
    with transaction.atomic():
        found = matching(petition, kind, value, start, end)
        for done, signature_id in enumerate(found, 1):
            if done % 100 == 0 or done == len(found):
                progress("invalidating signatures", done, len(found))
            before = Signature.objects.filter(pk=signature_id).values_list("state", flat=True)
            state = before.first()
            if state not in signing.LIVE_STATES:
                continue
            signing.invalidate(
                signature_id, actor, reason=reason, any_live_state=True, audit_each=False
            )
            changed.append([signature_id, state])
        action = BulkInvalidation.objects.create(
            petition=petition,
            kind=kind,
            value=value,
            window_start=start,
            window_end=end,
            reason=reason,
            actor=actor if isinstance(actor, User) else None,
            changed=changed,
        )
        audit.record(
            "signatures.bulk_invalidated",
            actor=actor,
            petition=petition,
            reason=reason,
            bulk=action.pk,
            count=len(changed),
            source_kind=kind,
        )
    return action


def revert(
    action: BulkInvalidation, actor: User | AnonymousUser, progress: Report = silent
) -> list[int]:
    """Undo a bulk invalidation; returns the signatures that could not be restored."""
    if action.reverted_at is not None:
        raise signing.SigningError(gettext("This bulk invalidation was already undone."))
    skipped: list[int] = []
    with transaction.atomic():
        for done, (signature_id, state) in enumerate(action.changed, 1):
            if done % 100 == 0 or done == len(action.changed):
                progress("reinstating signatures", done, len(action.changed))
            try:
                signing.reinstate(int(signature_id), actor, state=str(state))
            except signing.SigningError:
                skipped.append(int(signature_id))
        action.reverted_at = timezone.now()
        action.reverted_by = actor if isinstance(actor, User) else None
        action.save(update_fields=["reverted_at", "reverted_by"])
        audit.record(
            "signatures.bulk_reinstated",
            actor=actor,
            petition=action.petition,
            reason=action.reason,
            bulk=action.pk,
            count=len(action.changed) - len(skipped),
            skipped=skipped,
        )
    return skipped
