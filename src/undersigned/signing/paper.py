"""Signatures on paper: what people signed on a sheet, entered by an assigned moderator.

A council session where deputies sign a sheet, a stall where passers-by do:
the petitions office keeps the sheet, and a moderator of the petition enters
each signature, one by one or a whole sheet as CSV (signing/paper_csv.py).
A paper signature is a Signature like any other, with `channel` "paper" and
the sheet's reference, and it goes through the same services:

- it is verified when it is entered (the moderator has checked the sheet),
  so it counts at once in the same tallies and thresholds, and is logged
  like any verification, marked `"channel": "paper"` (docs/log-format.md);
- it is decided at once, so what the server no longer needs is sealed away
  at once (signing/custody.py): a hidden signer's name and register entry
  go to the custody key in the same transaction that enters them;
- it is invalidated like any other, with a reason from the list.

One per person. A paper signer has no address, so the keyed hash that keeps
one signature per person online (`email_hash`) is taken, under a purpose of
its own, of what identifies the person on paper:

- on a register letter, the register entry the line claims (with the sheet),
  and the register's own rule holds across channels: one verified signature
  per entry, whether it came online or on paper;
- on an open petition, the name, the place and the sheet, folded as the
  register matching folds them (spelling variants and scripts compare equal).
  That refuses a sheet, or a line of it, entered twice. It cannot tell that a
  person signed on two different sheets, or online and on paper, and it
  refuses two namesakes from one place on one sheet (give one a place apart).
  docs/operating.md says what the office checks by hand for that.

Every batch is all or nothing: each line is checked first (the same checks a
preview shows), then all are written in one transaction, or none.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from undersigned.audit import services as audit
from undersigned.core import typed_text
from undersigned.core.hashing import keyed_hash
from undersigned.petitions.models import Petition
from undersigned.petitions.services import add_to_tally
from undersigned.registers.csv_import import clean_value
from undersigned.registers.matching import name_key, name_matches, place_key, rank_candidates
from undersigned.registers.models import RegisterEntry
from undersigned.signing.custody import entry_key
from undersigned.signing.models import Signature
from undersigned.signing.services import SigningError, _move, _save

State = Signature.State
PAPER = Signature.Channel.PAPER
# The longest a typed field may be, as on the sign form.
MAX_FIELD = 120


@dataclass(frozen=True)
class PaperLine:
    """One signature from a sheet, as the moderator typed it or a CSV line gave it.

    `entry_id`: on a register letter, the number of the register entry the
    line claims; without it the entry is found by name and municipality (and
    role, where those are not enough). `line`: the CSV line, 0 when typed.
    """

    sheet_reference: str
    full_name: str
    show_name: bool = False
    role: str = ""
    municipality: str = ""
    region: str = ""
    entry_id: int | None = None
    line: int = 0


@dataclass(frozen=True)
class LineProblem:
    line: int  # 0: typed one by one, or the batch as a whole
    reason: str

    def __str__(self) -> str:
        if not self.line:
            return self.reason
        return gettext("line %(line)d: %(problem)s") % {"line": self.line, "problem": self.reason}


@dataclass(frozen=True)
class Checked:
    """A line that passed every check: what its signature will be."""

    line: PaperLine
    entry: RegisterEntry | None
    key: str  # the keyed hash of the person on paper (Signature.email_hash)


@dataclass
class CheckResult:
    accepted: list[Checked] = field(default_factory=list)
    problems: list[LineProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.accepted)


class PaperRefused(SigningError):
    """Nothing was entered; each problem is in `problems`."""

    def __init__(self, problems: Sequence[LineProblem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = list(problems)


def _sheet_fold(sheet: str) -> str:
    return clean_value(sheet).casefold()


def paper_key(petition: Petition, line: PaperLine, entry: RegisterEntry | None) -> str:
    """The keyed hash that makes a second entry of this line a duplicate (see the docstring)."""
    sheet = _sheet_fold(line.sheet_reference)
    if entry is not None:
        return keyed_hash("paper-entry", f"{petition.pk}|{entry.pk}|{sheet}")
    return keyed_hash(
        "paper-signer",
        "|".join(
            (
                str(petition.pk),
                name_key(line.full_name),
                place_key(line.municipality),
                place_key(line.region),
                sheet,
            )
        ),
    )


def _text_problems(line: PaperLine) -> list[str]:
    problems = []
    for value, label, required in (
        (line.sheet_reference, gettext("Sheet"), True),
        (line.full_name, gettext("Full name"), True),
        (line.role, gettext("Role"), False),
        (line.municipality, gettext("Municipality"), False),
        (line.region, gettext("Region"), False),
    ):
        if required and not value.strip():
            problems.append(gettext("%(label)s is missing.") % {"label": label})
            continue
        if len(value) > MAX_FIELD:
            problems.append(
                gettext("%(label)s is longer than %(limit)d characters.")
                % {"label": label, "limit": MAX_FIELD}
            )
            continue
        why = typed_text.problem(value, label)
        if why:
            problems.append(why)
    if line.full_name.strip() and not name_key(line.full_name):
        problems.append(gettext("Write the name in letters."))
    return problems


def _describe(entry: RegisterEntry) -> str:
    return f"#{entry.pk} {entry.full_name} ({entry.role}, {entry.municipality})"


# What finding an entry reads: never the sealed official address.
ENTRY_FIELDS = ("pk", "full_name", "role", "municipality", "region", "name_key", "place_key")


class _Register:
    """A letter's register entries, as the lines of one batch look them up."""

    def __init__(self, register_id: int) -> None:
        self.rows = RegisterEntry.objects.filter(register_id=register_id).only(
            *ENTRY_FIELDS
        )

    def find(self, line: PaperLine) -> tuple[RegisterEntry | None, str | None]:
        """The entry a line claims, or why none could be chosen."""
        if line.entry_id is not None:
            entry = self.rows.filter(pk=line.entry_id).first()
            if entry is None:
                return None, gettext("The register has no entry number %(number)d.") % {
                    "number": line.entry_id
                }
            if not name_matches(line.full_name, entry.full_name):
                return None, gettext(
                    "Register entry %(entry)s is not “%(name)s”; check the number or the name."
                ) % {"entry": _describe(entry), "name": line.full_name}
            return entry, None
        if not line.municipality.strip():
            return None, gettext(
                "Give the register entry's number, or the municipality to find it by."
            )
        # The folded keys the register's own uniqueness is on (registers/services.py).
        found = list(
            self.rows.filter(
                name_key=name_key(line.full_name)[:300],
                place_key=place_key(line.municipality)[:300],
            )
        )
        if len(found) > 1 and line.role.strip():
            found = [e for e in found if e.role.casefold() == line.role.strip().casefold()]
        if len(found) == 1:
            return found[0], None
        if len(found) > 1:
            return None, gettext(
                "Several register entries match: %(entries)s. Give the entry's number."
            ) % {"entries": "; ".join(_describe(e) for e in found)}
        ranked = rank_candidates(
            line.full_name,
            line.municipality,
            line.role,
            self.rows.values_list("pk", "full_name", "municipality", "role").iterator(),
            limit=3,
        )
        if not ranked:
            return None, gettext("No register entry matches this name and municipality.")
        closest = self.rows.in_bulk([c.key for c in ranked])
        return None, gettext(
            "No register entry matches exactly; the closest are %(entries)s. "
            "Give the entry's number if one of them is this signer."
        ) % {"entries": "; ".join(_describe(closest[c.key]) for c in ranked if c.key in closest)}


def check(petition: Petition, lines: Iterable[PaperLine]) -> CheckResult:
    """Every check a paper line must pass, against the database and the other lines.

    Writes nothing: this is what a preview shows, and what `enter` runs again
    inside its transaction before it writes.
    """
    result = CheckResult()
    if not petition.is_open:
        result.problems.append(LineProblem(0, gettext("This petition is not open for signatures.")))
        return result
    register = None
    if petition.needs_register and petition.register_id is not None:
        register = _Register(petition.register_id)
    candidates: list[Checked] = []
    first_key: dict[str, int] = {}
    first_entry: dict[int, int] = {}
    for line in lines:
        problems = _text_problems(line)
        entry = None
        if not problems and register is not None:
            entry, why = register.find(line)
            if why:
                problems.append(why)
        elif not problems and line.entry_id is not None:
            problems.append(
                gettext("This petition has no register; leave the register entry empty.")
            )
        if problems:
            result.problems.extend(LineProblem(line.line, p) for p in problems)
            continue
        key = paper_key(petition, line, entry)
        earlier = first_key.setdefault(key, line.line)
        if earlier != line.line:
            result.problems.append(
                LineProblem(
                    line.line,
                    gettext("The same signer on the same sheet as line %(first)d.")
                    % {"first": earlier},
                )
            )
            continue
        if entry is not None:
            earlier = first_entry.setdefault(entry.pk, line.line)
            if earlier != line.line:
                result.problems.append(
                    LineProblem(
                        line.line,
                        gettext("Register entry %(entry)s is also on line %(first)d.")
                        % {"entry": _describe(entry), "first": earlier},
                    )
                )
                continue
        candidates.append(Checked(line, entry, key))
    result.problems.extend(_against_database(petition, candidates))
    failed = {p.line for p in result.problems}
    result.accepted = [c for c in candidates if c.line.line not in failed]
    return result


def _against_database(petition: Petition, candidates: list[Checked]) -> list[LineProblem]:
    """Lines already entered, and register entries already held: two reads for the batch."""
    problems = []
    keys = [c.key for c in candidates]
    entered = dict(
        Signature.objects.filter(petition=petition, email_hash__in=keys).values_list(
            "email_hash", "pk"
        )
    )
    entry_keys = {
        entry_key(petition.pk, c.entry.pk): c for c in candidates if c.entry is not None
    }
    held = dict(
        Signature.objects.filter(
            petition=petition, state=State.VERIFIED, register_entry_key__in=list(entry_keys)
        ).values_list("register_entry_key", "pk")
    )
    for c in candidates:
        if c.key in entered:
            problems.append(
                LineProblem(
                    c.line.line,
                    gettext(
                        "This signature was entered before from sheet “%(sheet)s” (#%(id)s); "
                        "it is not entered again."
                    )
                    % {"sheet": c.line.sheet_reference, "id": entered[c.key]},
                )
            )
        elif c.entry is not None and entry_key(petition.pk, c.entry.pk) in held:
            problems.append(
                LineProblem(
                    c.line.line,
                    gettext(
                        "Register entry %(entry)s already has a verified signature (#%(id)s) "
                        "on this letter."
                    )
                    % {
                        "entry": _describe(c.entry),
                        "id": held[entry_key(petition.pk, c.entry.pk)],
                    },
                )
            )
    return problems


def enter(
    petition: Petition,
    lines: Sequence[PaperLine],
    moderator: User | AnonymousUser,
    *,
    upload: dict[str, Any] | None = None,
) -> list[Signature]:
    """Enter paper signatures: all of them, verified, counted and logged, or none.

    The caller has checked that `moderator` is assigned to the petition.
    `upload`: what to record of a CSV upload (its hash, lines, sheets) in one
    audit event beside each signature's own. Raises PaperRefused, with every
    problem, and changes nothing, when any line fails a check.
    """
    try:
        with transaction.atomic():
            # The petition's row, locked: two moderators entering the same
            # sheet at once are taken one after the other, and the second
            # is told which lines the first entered. NO KEY: online signers
            # inserting signatures of this petition are not held up by it.
            petition = Petition.objects.select_for_update(no_key=True).get(pk=petition.pk)
            result = check(petition, lines)
            if result.problems or not result.accepted:
                nothing = LineProblem(0, gettext("Nothing to enter."))
                raise PaperRefused(result.problems or [nothing])
            moves: Counter[tuple[tuple[str, str], str, bool]] = Counter()
            signatures = [_enter_one(petition, c, moderator, moves) for c in result.accepted]
            # The tallies last, one statement per place, in one order: a busy
            # place's row is then locked for the commit only, not for the
            # whole sheet, and online signers there do not wait on the sheet.
            for (place, column, hidden), delta in sorted(moves.items()):
                add_to_tally(petition.pk, place, column, delta, hidden=hidden, paper=True)
            if upload is not None:
                audit.record(
                    "paper.sheet_entered",
                    actor=moderator,
                    petition=petition,
                    signatures=len(signatures),
                    **upload,
                )
            return signatures
    except IntegrityError:
        # Only a writer that did not take the petition's lock (a signer online
        # claiming the same register entry) gets here.
        raise PaperRefused(
            [
                LineProblem(
                    0,
                    gettext(
                        "A signature for one of these register entries was verified meanwhile; "
                        "nothing was entered. Check the lines again."
                    ),
                )
            ]
        ) from None


def _enter_one(
    petition: Petition,
    checked: Checked,
    moderator: User | AnonymousUser,
    moves: "Counter[tuple[tuple[str, str], str, bool]]",
) -> Signature:
    """Write one checked line's signature; its tally moves are added to `moves`."""
    line, entry = checked.line, checked.entry
    now = timezone.now()
    version = petition.shown_version()
    signature = Signature(
        petition=petition,
        text_version=version,
        # Counted nowhere until _move makes it verified, in this transaction.
        state=State.UNCONFIRMED,
        full_name=clean_value(line.full_name),
        email="",
        email_hash=checked.key,
        show_name=line.show_name,
        role=entry.role if entry is not None else clean_value(line.role),
        municipality=entry.municipality if entry is not None else clean_value(line.municipality),
        region=entry.region if entry is not None else clean_value(line.region),
        language=version.language,
        channel=PAPER,
        sheet_reference=clean_value(line.sheet_reference),
        register_entry=entry,
        register_entry_key=entry_key(petition.pk, entry.pk) if entry is not None else None,
        confirmed_at=now,
        verified_at=now,
    )
    signature.save(force_insert=True)
    _move(signature, State.VERIFIED)
    for _petition, place, column, delta in signature.tally_moves:
        moves[(place, column, not signature.show_name)] += delta
    signature.tally_moves = []  # moved for the whole batch by `enter`
    # Decided at once, so sealed at once: a hidden signer's name and entry
    # leave the server in this transaction (signing/custody.py).
    _save(signature)
    audit.record(
        "signature.paper_entered",
        actor=moderator,
        petition=petition,
        signature=signature,
        sheet=signature.sheet_reference,
        # Which entry a hidden signer is stays in the custody box, not in the trail.
        register_entry=entry.pk if entry is not None and signature.show_name else None,
    )
    return signature


def enter_one(petition: Petition, line: PaperLine, moderator: User | AnonymousUser) -> Signature:
    """One signature typed from a sheet; see `enter`."""
    return enter(petition, [line], moderator)[0]
