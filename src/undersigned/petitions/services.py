"""Petition lifecycle: draft → open → closed → archived, with frozen, versioned texts."""

from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.text import slugify

from undersigned.ledger import entries
from undersigned.ledger import services as ledger
from undersigned.moderation import audit
from undersigned.petitions.models import Petition, Tally, TextVersion

Status = Petition.Status
Actor = User | AnonymousUser | None


class PetitionError(Exception):
    """A refusal the organiser should read; nothing was changed."""


def unique_slug(title: str) -> str:
    base = slugify(title, allow_unicode=False)[:60].strip("-") or "petition"
    slug, n = base, 1
    while Petition.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def publish(petition: Petition, actor: Actor) -> None:
    with transaction.atomic():
        petition = Petition.objects.select_for_update().get(pk=petition.pk)
        if petition.status != Status.DRAFT:
            raise PetitionError("Only a draft can be published.")
        if petition.needs_register and petition.register_id is None:
            raise PetitionError("Choose the register of people who may sign before publishing.")
        if petition.deadline and petition.deadline <= timezone.now():
            raise PetitionError("The deadline is already past; move it before publishing.")
        now = timezone.now()
        version = petition.current_version()
        version.published_at = now
        version.save()
        petition.status = Status.OPEN
        petition.opened_at = now
        petition.save(update_fields=["status", "opened_at"])
        ledger.record_petition_event(entries.PETITION_OPENED, petition, version)
        audit.record(
            "petition.opened",
            actor=actor,
            petition=petition,
            text_version=version.number,
            sha256=version.sha256,
        )


def close(petition: Petition, actor: Actor, *, reason: str = "closed by the organiser") -> None:
    with transaction.atomic():
        petition = Petition.objects.select_for_update().get(pk=petition.pk)
        if petition.status != Status.OPEN:
            raise PetitionError("Only an open petition can be closed.")
        petition.status = Status.CLOSED
        petition.closed_at = timezone.now()
        petition.save(update_fields=["status", "closed_at"])
        ledger.record_petition_event(
            entries.PETITION_CLOSED, petition, petition.current_version(), reason=reason
        )
        audit.record("petition.closed", actor=actor, petition=petition, reason=reason)


def archive(petition: Petition, actor: Actor) -> None:
    with transaction.atomic():
        petition = Petition.objects.select_for_update().get(pk=petition.pk)
        if petition.status != Status.CLOSED:
            raise PetitionError("Only a closed petition can be archived.")
        petition.status = Status.ARCHIVED
        petition.save(update_fields=["status"])
        audit.record("petition.archived", actor=actor, petition=petition)


def new_version(
    petition: Petition, actor: Actor, *, title: str, body: str, language: str, change_note: str
) -> TextVersion:
    """Correct a published text. Signatures keep the version they signed."""
    with transaction.atomic():
        petition = Petition.objects.select_for_update().get(pk=petition.pk)
        if petition.status != Status.OPEN:
            raise PetitionError("Only an open petition's text can be corrected.")
        if not change_note.strip():
            raise PetitionError("Say what changed: signers of earlier versions will see it.")
        current = petition.current_version()
        version = TextVersion(
            petition=petition,
            number=current.number + 1,
            title=title,
            body=body,
            language=language,
            change_note=change_note.strip(),
            published_at=timezone.now(),
        )
        if version.compute_sha256() == current.sha256:
            raise PetitionError("The text is unchanged.")
        version.save()
        ledger.record_petition_event(entries.PETITION_TEXT_VERSION, petition, version)
        audit.record(
            "petition.new_version",
            actor=actor,
            petition=petition,
            reason=change_note.strip(),
            text_version=version.number,
            sha256=version.sha256,
        )
        return version


def close_expired(now: datetime | None = None) -> int:
    """Close every open petition whose deadline has passed (run by the worker)."""
    now = now or timezone.now()
    closed = 0
    for petition in Petition.objects.filter(status=Status.OPEN, deadline__lte=now):
        try:
            close(petition, None, reason="deadline reached")
            closed += 1
        except PetitionError:
            continue  # closed by hand in the meantime
    return closed


def counts(petition: Petition) -> tuple[int, int]:
    """(verified, awaiting) from the tallies: a sum over places, never over signatures."""
    totals = Tally.objects.filter(petition=petition).aggregate(
        verified=Sum("verified"), awaiting=Sum("awaiting")
    )
    return totals["verified"] or 0, totals["awaiting"] or 0


@dataclass
class MunicipalityCount:
    municipality: str
    verified: int


@dataclass
class RegionCount:
    region: str
    verified: int = 0
    municipalities: list[MunicipalityCount] = field(default_factory=list)


def counts_by_region(petition: Petition) -> list[RegionCount]:
    """Verified counts per region with their municipalities, biggest region first."""
    regions: dict[str, RegionCount] = {}
    rows = Tally.objects.filter(petition=petition, verified__gt=0).order_by(
        "region", "municipality"
    )
    for row in rows:
        region = regions.setdefault(row.region, RegionCount(row.region))
        region.verified += row.verified
        region.municipalities.append(MunicipalityCount(row.municipality, row.verified))
    return sorted(regions.values(), key=lambda r: (-r.verified, r.region))
