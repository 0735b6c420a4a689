"""Petition lifecycle: draft → open → closed → archived, with frozen, versioned texts."""

import threading
import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import connection, transaction
from django.db.models import Count, F, Sum
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from undersigned.audit import services as audit
from undersigned.ledger import services as ledger
from undersigned.petitions.models import Petition, Tally, TextVersion
from undersigned.registers.models import RegisterEntry
from undersigned.tlog import entries

Status = Petition.Status
Actor = User | AnonymousUser | None


class PetitionError(Exception):
    """A refusal the organiser should read, in the active language; nothing was changed."""


def unique_slug(title: str) -> str:
    return free_slug(slugify(title, allow_unicode=False)[:60].strip("-") or "petition")


def free_slug(base: str, *, exclude_id: int | None = None) -> str:
    """`base`, or `base-2`, `base-3`…: the first no other petition has."""
    taken = Petition.objects.exclude(pk=exclude_id) if exclude_id else Petition.objects.all()
    slug, n = base, 1
    while taken.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def publish(petition: Petition, actor: Actor, *, submission: bool = False) -> None:
    """Open a draft (or, `submission`, a submission a moderator publishes) for signing."""
    with transaction.atomic():
        petition = Petition.objects.select_for_update().get(pk=petition.pk)
        if submission and petition.status != Status.MODERATION:
            raise PetitionError(_("Only a submission awaiting moderation can be published."))
        if not submission and petition.status != Status.DRAFT:
            raise PetitionError(_("Only a draft can be published."))
        if petition.needs_register and petition.register_id is None:
            raise PetitionError(_("Choose the register of people who may sign before publishing."))
        if petition.deadline and petition.deadline <= timezone.now():
            raise PetitionError(_("The deadline is already past; move it before publishing."))
        now = timezone.now()
        # The original and its translations, each published as a version of its own.
        version, *translations = petition.latest_texts(published=False)
        for text in (version, *translations):
            text.published_at = now
            text.save()
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
        for text in translations:
            ledger.record_petition_event(entries.PETITION_TEXT_VERSION, petition, text)
            audit.record(
                "petition.translation_published",
                actor=actor,
                petition=petition,
                text_version=text.number,
                language=text.language,
                sha256=text.sha256,
            )


def close(petition: Petition, actor: Actor, *, reason: str = "closed by the organiser") -> None:
    with transaction.atomic():
        petition = Petition.objects.select_for_update().get(pk=petition.pk)
        if petition.status != Status.OPEN:
            raise PetitionError(_("Only an open petition can be closed."))
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
            raise PetitionError(_("Only a closed petition can be archived."))
        petition.status = Status.ARCHIVED
        petition.save(update_fields=["status"])
        audit.record("petition.archived", actor=actor, petition=petition)


def new_version(
    petition: Petition, actor: Actor, *, title: str, body: str, language: str, change_note: str
) -> TextVersion:
    """Correct a published text in one of its languages (the original, or a translation).

    Signatures keep the version they signed.
    """
    with transaction.atomic():
        petition = Petition.objects.select_for_update().get(pk=petition.pk)
        if petition.status != Status.OPEN:
            raise PetitionError(_("Only an open petition's text can be corrected."))
        if not change_note.strip():
            raise PetitionError(_("Say what changed: signers of earlier versions will see it."))
        current = petition.published_version(language)
        if current is None:
            raise PetitionError(
                _("This petition has no text in that language yet: add it as a translation.")
            )
        version = TextVersion(
            petition=petition,
            number=petition.next_number(),
            title=title,
            body=body,
            language=language,
            change_note=change_note.strip(),
            published_at=timezone.now(),
        )
        if version.compute_sha256() == current.sha256:
            raise PetitionError(_("The text is unchanged."))
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


def add_to_tally(
    petition_id: int,
    place: tuple[str, str],
    column: str,
    delta: int,
    *,
    hidden: bool = False,
    paper: bool = False,
) -> None:
    """Move one place's "verified" or "awaiting" count by delta, creating its row if new.

    `hidden`: the signatures moved chose not to be shown; a verified move then
    moves the place's `verified_hidden` too, in the same statement. `paper`:
    they were entered from paper sheets; a verified move moves `verified_paper`.

    One UPDATE when the row exists (the common case), so that a busy place's
    row is locked only by that statement, to the end of the transaction. The
    same statement counts the move in `changes` (petitions.standing).
    """
    region, municipality = place
    moves = {column: F(column) + delta, "changes": F("changes") + 1}
    if hidden and column == "verified":
        moves["verified_hidden"] = F("verified_hidden") + delta
    if paper and column == "verified":
        moves["verified_paper"] = F("verified_paper") + delta
    row = Tally.objects.filter(petition_id=petition_id, region=region, municipality=municipality)
    if row.update(**moves):
        return
    tally, _ = Tally.objects.get_or_create(
        petition_id=petition_id, region=region, municipality=municipality
    )
    Tally.objects.filter(pk=tally.pk).update(**moves)


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


@dataclass
class PlaceCounts:
    """Verified counts by place as the public sees them (docs/security.md, "Small cells").

    The regions' counts and `unplaced` add up to the headline verified count.
    """

    regions: list[RegionCount]
    # Signers counted without their name whose place is not shown: their place
    # had too few of them to be named without pointing at someone.
    unplaced: int = 0


def small_cell_threshold() -> int:
    return int(getattr(settings, "SMALL_CELL_THRESHOLD", 5))


def shown_at_place(verified: int, hidden: int, not_signed: int | None, threshold: int) -> int:
    """How many of a place's verified signers its public count includes.

    A place's shown signers are listed by name, so its count tells how many
    hidden ones it has. They are counted there only when there are at least
    `threshold` of them, and, where the people who could sign are known (a
    register letter: `not_signed` is how many of the place's register entries
    have no verified signature), only when at least `threshold` of those did
    not sign, so that "all of them signed" cannot be read either. Otherwise
    the place shows its shown signers alone, which is what it shows when it has
    no hidden signer at all: the two cases look the same.
    """
    if hidden >= threshold and (not_signed is None or not_signed >= threshold):
        return verified
    return verified - hidden


def place_counts(
    petition: Petition, rows: Iterable[tuple[str, str, int, int]] | None = None
) -> PlaceCounts:
    """Verified counts per region with their municipalities, biggest region first,
    with few hidden signers at a place counted in `unplaced` instead.

    `rows`: the petition's tally rows as (region, municipality, verified,
    verified hidden) in that order, when the caller has read them already
    (petitions.standing reads them with the rest of a petition's counts).
    """
    threshold = small_cell_threshold()
    population: dict[tuple[str, str], int] | None = None
    if petition.needs_register and petition.register_id is not None:
        population = {
            (r["region"], r["municipality"]): r["n"]
            for r in RegisterEntry.objects.filter(register_id=petition.register_id)
            .values("region", "municipality")
            .annotate(n=Count("id"))
            .order_by()
        }
    regions: dict[str, RegionCount] = {}
    unplaced = 0
    if rows is None:
        rows = (
            Tally.objects.filter(petition=petition, verified__gt=0)
            .order_by("region", "municipality")
            .values_list("region", "municipality", "verified", "verified_hidden")
        )
    for region_name, municipality, verified, hidden in rows:
        if verified <= 0:
            continue
        shown = verified
        if region_name or municipality:  # "no place given" points at no one
            not_signed = None
            if population is not None:
                not_signed = population.get((region_name, municipality), 0) - verified
            shown = shown_at_place(verified, hidden, not_signed, threshold)
        unplaced += verified - shown
        if shown <= 0:
            continue
        region = regions.setdefault(region_name, RegionCount(region_name))
        region.verified += shown
        region.municipalities.append(MunicipalityCount(municipality, shown))
    ordered = sorted(regions.values(), key=lambda r: (-r.verified, r.region))
    return PlaceCounts(ordered, unplaced)


def counts_by_region(petition: Petition) -> list[RegionCount]:
    """place_counts() without the unplaced: what the public sees of each region."""
    return place_counts(petition).regions


# ------------------------------------------------------------------ cached reads

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True)
class _Copy(Generic[V]):
    value: V
    read_at: float  # time.monotonic() when the read began
    order: Hashable = None  # the counts it was made from (petitions.standing), if any


class FreshCache(Generic[K, V]):
    """Values read from the database at most COUNT_CACHE_SECONDS ago, kept in this process.

    Surges are reads: a shared link sends thousands of people to one page and
    its count. With this, each process reads a petition's numbers about twice
    a second whatever the traffic, and everyone else gets the copy.

    - Never staler than the limit: a copy is refreshed once half the limit has
      passed (the request that notices pays for the read; others keep getting
      the copy meanwhile), and a request that finds it at the limit waits for
      the refresh instead of getting anything older.
    - Never backwards: refreshes of one key run one at a time, each begun after
      the previous one ended, so a copy is only ever replaced by a later read.
    - Never inside a transaction: a read there may see writes that will be
      rolled back, or a snapshot older than the copy; it goes to the database.

    Copies are per process, so two processes may serve different copies, each
    within the limit; see docs/performance.md.
    """

    MAX_KEYS = 2000

    def __init__(self, share: float = 1.0) -> None:
        # A cache may keep its copies for only a share of the limit: one that is
        # cheap to read and polled for the newest count (the count JSON).
        self.share = share
        self._copies: dict[K, _Copy[V]] = {}
        self._locks: dict[K, threading.Lock] = {}
        self._guard = threading.Lock()

    def max_age(self) -> float:
        return float(getattr(settings, "COUNT_CACHE_SECONDS", 1.0)) * self.share

    def get(self, key: K, read: Callable[[], V], *, order: Hashable = None) -> V:
        """The copy of key, or read()'s value kept as the new copy.

        `order`: the counts read() builds on (a Standing's order); a copy made
        from other counts is never served, so a value that shows counts is
        never older than the counts this request was given.
        """
        limit = self.max_age()
        if limit <= 0 or connection.in_atomic_block:
            return read()
        copy = self._copies.get(key)
        if copy is not None and copy.order != order:
            copy = None
        age = time.monotonic() - copy.read_at if copy is not None else limit
        if age < limit / 2 and copy is not None:
            return copy.value
        lock = self._lock_for(key)
        if copy is not None and age < limit:
            if not lock.acquire(blocking=False):
                return copy.value  # another request is refreshing it right now
        else:
            lock.acquire()
        try:
            copy = self._copies.get(key)
            if (
                copy is not None
                and copy.order == order
                and time.monotonic() - copy.read_at < limit / 2
            ):
                return copy.value  # refreshed while this request waited
            read_at = time.monotonic()
            value = read()
            if len(self._copies) >= self.MAX_KEYS:
                # Mostly petitions nobody reads any more; dropping a copy only costs a read.
                self._copies.clear()
            self._copies[key] = _Copy(value, read_at, order)
            return value
        finally:
            lock.release()

    def _lock_for(self, key: K) -> threading.Lock:
        lock = self._locks.get(key)
        if lock is None:
            # Locks are never dropped (a few bytes per petition ever read): two locks
            # for one key would let two refreshes race and an older read land last.
            with self._guard:
                lock = self._locks.setdefault(key, threading.Lock())
        return lock

    def forget(self) -> None:
        with self._guard:
            self._copies.clear()


def cached_counts(petition: Petition) -> tuple[int, int]:
    """counts() for public pages: at most COUNT_CACHE_SECONDS old, never going backwards
    (across processes and servers too: petitions.standing)."""
    # standing builds on this module; imported here so that both can be imported alone.
    from undersigned.petitions.standing import current

    standing = current(petition)
    return standing.verified, standing.awaiting


def cached_place_counts(petition: Petition) -> PlaceCounts:
    """place_counts() for public pages, from the same read as cached_counts()."""
    from undersigned.petitions.standing import current

    return current(petition).places


class _Forgettable(Protocol):
    def forget(self) -> None: ...


C = TypeVar("C", bound=_Forgettable)
_all_caches: list[_Forgettable] = []


def register_cache(cache: C) -> C:
    """Other public reads (the page, the API) cached the same way, forgotten together."""
    _all_caches.append(cache)
    return cache


def forget_cached_counts() -> None:
    """Drop every cached copy in this process (tests, benchmarks)."""
    for cache in _all_caches:
        cache.forget()
