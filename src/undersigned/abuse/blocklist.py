"""The block list: mail domains and networks refused at signing, managed by moderators.

An entry holds for one petition, or (added by a site moderator) for every
petition. Every addition and removal is in the audit trail with who and why.
A refused attempt gets the same neutral answer whichever entry refused it, so
nobody can probe the list, and writes nothing: no signature, no mail, no
source row, no rate-limit count.

Networks are kept as typed, but never narrower than /24 (IPv4) or /48 (IPv6),
the networks trending detection groups by: the list holds no one's address.
A network seen only as a trending source is known by its keyed hash, whose
key lasts a day (abuse/sources.py): such an entry ends with the day.
"""

import ipaddress
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from undersigned.abuse.models import BlockedSource
from undersigned.abuse.sources import HASH_LENGTH, Source
from undersigned.audit import services as audit
from undersigned.petitions.models import Petition
from undersigned.petitions.services import FreshCache, register_cache

Kind = BlockedSource.Kind
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# What a refused signer reads, whatever refused them: the same as any refusal
# that must not say why (signing/views.py).
REFUSAL = _(
    "This signature could not be taken. Nothing was recorded. If you think this "
    "is a mistake, write to the petition's organiser."
)

WIDEST_PREFIX = {4: 24, 6: 48}
_DOMAIN = re.compile(r"(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}")
_HASH = re.compile(rf"[0-9a-f]{{{HASH_LENGTH}}}")


class BlocklistError(Exception):
    """A change refused with a message for the moderator, already translated; nothing changed."""


def ascii_domain(domain: str) -> str:
    """A domain as mail servers compare it: lower case, IDNA-encoded, no trailing dot."""
    domain = domain.strip().lower().rstrip(".")
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def _address(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def normalise(kind: str, value: str) -> str:
    """The value an entry is kept under, or BlocklistError saying what is wrong with it."""
    value = value.strip()
    if kind == Kind.DOMAIN:
        domain = ascii_domain(value.removeprefix("@").removeprefix("*."))
        if not _DOMAIN.fullmatch(domain):
            raise BlocklistError(gettext("Give a mail domain, such as mail.example.org."))
        return domain
    if kind == Kind.NETWORK:
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise BlocklistError(
                gettext("Give a network, such as 203.0.113.0/24 or 2001:db8::/48.")
            ) from None
        if network.prefixlen > WIDEST_PREFIX[network.version]:
            raise BlocklistError(
                gettext(
                    "Give a network no narrower than /24 (IPv4) or /48 (IPv6): "
                    "the list holds networks, never one person's address."
                )
            )
        return str(network)
    if kind == Kind.NETWORK_HASH:
        if not _HASH.fullmatch(value):
            raise BlocklistError(gettext("This network is no longer known: block it by its range."))
        return value
    raise BlocklistError(gettext("Choose what to block."))


def end_of_today() -> datetime:
    """When today's network key ends, and with it an entry by a network's hash (UTC)."""
    today = timezone.now().astimezone(UTC).date()
    return datetime(today.year, today.month, today.day, tzinfo=UTC) + timedelta(days=1)


def may_block_everywhere(user: User | AnonymousUser) -> bool:
    """Only the site's moderators may refuse a source on every petition."""
    return isinstance(user, User) and user.has_perm("signing.moderate_any")


def add(
    actor: User,
    *,
    kind: str,
    value: str,
    reason: str,
    petition: Petition | None,
) -> BlockedSource:
    """Block a source on one petition (None: on all of them), audited."""
    reason = " ".join(reason.split())
    if not reason:
        raise BlocklistError(gettext("Say why: the reason is kept in the audit trail."))
    if petition is None and not may_block_everywhere(actor):
        raise BlocklistError(gettext("Only a site moderator may block a source everywhere."))
    kept = normalise(kind, value)
    try:
        with transaction.atomic():
            entry = BlockedSource.objects.create(
                kind=kind,
                value=kept,
                petition=petition,
                reason=reason[:500],
                added_by=actor,
                expires=end_of_today() if kind == Kind.NETWORK_HASH else None,
            )
            audit.record(
                "blocklist.added",
                actor=actor,
                petition=petition,
                reason=reason,
                entry=entry.pk,
                kind=kind,
                value=kept,
                everywhere=petition is None,
            )
    except IntegrityError:
        raise BlocklistError(gettext("This source is already blocked there.")) from None
    forget()
    return entry


def remove(actor: User, entry: BlockedSource, *, reason: str) -> None:
    """Take an entry off the list, audited with the reason given."""
    reason = " ".join(reason.split())
    if not reason:
        raise BlocklistError(gettext("Say why: the reason is kept in the audit trail."))
    with transaction.atomic():
        audit.record(
            "blocklist.removed",
            actor=actor,
            petition=entry.petition,
            reason=reason,
            entry=entry.pk,
            kind=entry.kind,
            value=entry.value,
            everywhere=entry.petition_id is None,
            added_reason=entry.reason,
        )
        entry.delete()
    forget()


def visible_to(user: User | AnonymousUser, petitions: "list[Petition]") -> "list[BlockedSource]":
    """The entries a moderator sees: those of their petitions and those for every petition."""
    return list(
        BlockedSource.objects.filter(Q(petition__isnull=True) | Q(petition__in=petitions))
        .select_related("petition", "added_by")
        .order_by("-created", "-id")[:500]
    )


# ------------------------------------------------------------------ at signing


@dataclass(frozen=True)
class _Rule:
    petition_id: int | None
    kind: str
    value: str
    network: Network | None
    expires: datetime | None


def _read_rules() -> list[_Rule]:
    rows = BlockedSource.objects.filter(
        Q(expires__isnull=True) | Q(expires__gt=timezone.now())
    ).values_list("petition_id", "kind", "value", "expires")
    rules = []
    for petition_id, kind, value, expires in rows:
        network = ipaddress.ip_network(value, strict=False) if kind == Kind.NETWORK else None
        rules.append(_Rule(petition_id, kind, value, network, expires))
    return rules


# Read at most COUNT_CACHE_SECONDS ago, per process (like the page's counts):
# signing in a surge reads the list about once a second, not once a signature.
_rules: FreshCache[int, list[_Rule]] = register_cache(FreshCache())


def forget() -> None:
    """A change is seen at once by this process; by the others within COUNT_CACHE_SECONDS."""
    _rules.forget()


def refuses(petition_id: int, ip: str, source: Source) -> bool:
    """Whether an entry on the list refuses this signing attempt."""
    rules = _rules.get(0, _read_rules)
    if not rules:
        return False
    now = timezone.now()
    domain = ascii_domain(source.email_domain or "")
    address = _address(ip)
    for rule in rules:
        if rule.petition_id is not None and rule.petition_id != petition_id:
            continue
        if rule.expires is not None and rule.expires <= now:
            continue
        if rule.kind == Kind.DOMAIN:
            if domain == rule.value or domain.endswith("." + rule.value):
                return True
        elif rule.kind == Kind.NETWORK:
            if (
                address is not None
                and rule.network is not None
                and address.version == rule.network.version
                and address in rule.network
            ):
                return True
        elif rule.kind == Kind.NETWORK_HASH and source.network_hash == rule.value:
            return True
    return False
