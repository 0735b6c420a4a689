import json
import sys
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import CommandError

from undersigned.abuse import services
from undersigned.abuse.forms import BulkInvalidationForm
from undersigned.abuse.models import BulkInvalidation, TrendingSource
from undersigned.abuse.sources import HASH_LENGTH, email_domain
from undersigned.core.management.base import ExamplesCommand
from undersigned.core.progress import progress
from undersigned.petitions.access import moderated_by
from undersigned.petitions.models import Petition
from undersigned.signing.models import Signature
from undersigned.signing.services import LIVE_STATES, SigningError

# The page's form fields, as this command spells them, for its error messages.
OPTION_OF = {
    "petition": "PETITION",
    "kind": "--network/--domain",
    "value": "--network/--domain",
    "start": "--start",
    "end": "--end",
    "reason": "--reason",
}


class Command(ExamplesCommand):
    help = """Invalidate, in bulk, the signatures one network or mail domain sent to a petition
in a time window, with a public reason; or undo such an action. The same as the
moderators' page "Trending sources" (/moderation/sources/): the same selection,
the same audit events, log entries and tallies, and it can be undone there too.

examples:
  undersigned invalidate clean-air --domain wave.example \\
      --start 2026-11-21T10:00 --end 2026-11-21T11:00 \\
      --reason "Bot wave from one mail domain" --user moderator --dry-run
  undersigned invalidate clean-air --network 3f9a0c1e \\
      --start 2026-11-21T10:00Z --end 2026-11-21T11:00Z \\
      --reason "Bot wave from one network" --user moderator --yes --json
  undersigned invalidate --revert 12 --user moderator --yes

A network is named by its keyed hash, never an address: the whole hash, or its
first 8 or more characters as the page shows it ("network #3f9a0c1e") when
only one network on the petition in that window starts so. Times are ISO 8601, in
TIME_ZONE unless they carry an offset; the window includes its start, not its
end. --user must moderate the petition (its organiser, one of its moderators,
or a superuser); the action is recorded in their name. Without --yes the
command asks on a terminal, and refuses otherwise. On a terminal, progress and
an ETA are shown on standard error.
Exit status: 0 done (or --dry-run), 1 nothing changed (the reason is printed)."""

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("petition", nargs="?", help="the petition's slug")
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--network", metavar="HASH", help="a network's keyed hash")
        source.add_argument("--domain", help="a mail domain, e.g. wave.example")
        parser.add_argument("--start", help="start of the window (ISO 8601), included")
        parser.add_argument("--end", help="end of the window (ISO 8601), excluded")
        parser.add_argument("--reason", help="public reason, written to the log (required)")
        parser.add_argument(
            "--user", required=True, metavar="USERNAME", help="the moderator acting"
        )
        parser.add_argument(
            "--revert",
            type=int,
            metavar="ACTION_ID",
            help="undo this bulk invalidation instead",
        )
        parser.add_argument("--yes", action="store_true", help="do it without asking")
        parser.add_argument(
            "--dry-run", action="store_true", help="only count what would be invalidated"
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help="print one JSON object instead of text, and no progress bar",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.as_json = bool(options["json"])
        try:
            user = self.moderator(options["user"])
            if options["revert"] is not None:
                self.revert(user, options)
            else:
                self.invalidate(user, options)
        except CommandError as exc:
            if self.as_json:
                self.stdout.write(json.dumps({"ok": False, "error": str(exc)}, ensure_ascii=False))
            raise

    def moderator(self, username: str) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        if not user.is_active:
            raise CommandError(f"user {username!r} is not active")
        return user

    def confirm(self, question: str, options: dict[str, Any]) -> None:
        if options["yes"]:
            return
        if self.as_json or not sys.stdin.isatty():
            raise CommandError(f"{question} Add --yes to go ahead; nothing was changed")
        self.stderr.write(f"{question} [y/N] ", ending="")
        self.stderr.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            raise CommandError("not confirmed; nothing was changed")

    def invalidate(self, user: User, options: dict[str, Any]) -> None:
        if options["petition"] is None:
            raise CommandError("give the PETITION's slug, or --revert ACTION_ID")
        if options["network"] is None and options["domain"] is None:
            raise CommandError("give the source: --network HASH or --domain DOMAIN")
        kind = TrendingSource.Kind.NETWORK if options["network"] else TrendingSource.Kind.DOMAIN
        value = options["network"] or options["domain"]
        if kind == TrendingSource.Kind.DOMAIN:
            value = email_domain(value)  # as signatures' sources record it
        # The page's own form, so the CLI accepts and refuses exactly what the page does.
        form = BulkInvalidationForm(
            {
                "petition": options["petition"],
                "kind": kind,
                "value": value,
                "start": options["start"] or "",
                "end": options["end"] or "",
                "reason": options["reason"] or "",
            }
        )
        if not form.is_valid():
            field, errors = next(iter(form.errors.items()))
            raise CommandError(f"{OPTION_OF.get(field, field)}: {errors[0]}")
        data = form.cleaned_data
        start, end = data["start"], data["end"]
        if end <= start:
            raise CommandError("--end must be after --start")
        petition = self.petition(user, data["petition"])
        if kind == TrendingSource.Kind.NETWORK:
            value = self.whole_hash(petition, value, start, end)
        sources = services.matching_sources(petition, kind, value, start, end)
        live = list(
            Signature.objects.filter(
                pk__in=sources.values("signature_id"), state__in=LIVE_STATES
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        matched = sources.count()
        label = f"network {value}" if kind == TrendingSource.Kind.NETWORK else f"domain {value}"
        window = f"from {start.isoformat()} to {end.isoformat()}"
        if not live:
            raise CommandError(
                f"nothing to invalidate: no live signature of {petition.slug} from {label} "
                f"{window} ({matched} matched, none still live)"
            )
        summary = {
            "petition": petition.slug,
            "kind": kind,
            "value": value,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "matched": matched,
        }
        if options["dry_run"]:
            self.result(
                f"{len(live)} of {matched} matching signature(s) of {petition.slug} from "
                f"{label} {window} would be invalidated (dry run: nothing changed)",
                {"ok": True, "dry_run": True, **summary, "count": len(live), "signatures": live},
            )
            return
        if not self.as_json:
            self.stdout.write(
                f"{len(live)} of {matched} matching signature(s) of {petition.slug} from "
                f"{label} {window} can be invalidated"
            )
        self.confirm(f"Invalidate {len(live)} signature(s) of {petition.slug}?", options)
        try:
            with progress(enabled=False if self.as_json else None) as report:
                action = services.bulk_invalidate(
                    petition,
                    user,
                    kind=kind,
                    value=value,
                    start=start,
                    end=end,
                    reason=data["reason"],
                    progress=report,
                )
        except SigningError as exc:
            raise CommandError(str(exc)) from None
        changed = [int(signature_id) for signature_id, _ in action.changed]
        self.result(
            f"invalidated {len(changed)} signature(s) of {petition.slug}: bulk invalidation "
            f"{action.pk} by {user.username}; to undo: undersigned invalidate --revert "
            f"{action.pk} --user {user.username}",
            {
                "ok": True,
                "action": action.pk,
                **summary,
                "reason": action.reason,
                "actor": user.username,
                "count": len(changed),
                "signatures": changed,
            },
        )

    def petition(self, user: User, slug: str) -> Petition:
        if not Petition.objects.filter(slug=slug).exists():
            raise CommandError(f"no petition with slug {slug!r}")
        petition = moderated_by(user).filter(slug=slug).first()
        if petition is None:
            raise CommandError(f"{user.username} does not moderate {slug}")
        return petition

    def whole_hash(self, petition: Petition, value: str, start: Any, end: Any) -> str:
        """The network hash the page shows the first 8 characters of, made whole."""
        if len(value) >= HASH_LENGTH:
            return value
        if len(value) < 8:
            raise CommandError("--network: give the hash, or at least its first 8 characters")
        found = sorted(
            set(
                services.sources_in_window(petition, start, end)
                .filter(network_hash__startswith=value)
                .values_list("network_hash", flat=True)
            )
        )
        if len(found) > 1:
            raise CommandError(
                f"--network: {len(found)} networks on {petition.slug} in that window start "
                f"with {value}; give more of the hash"
            )
        # None found: the selection below matches nothing and says so.
        return found[0] if found else value

    def revert(self, user: User, options: dict[str, Any]) -> None:
        given = [
            name
            for name in ("petition", "network", "domain", "start", "end", "reason")
            if options[name] is not None
        ]
        if given or options["dry_run"]:
            raise CommandError("--revert takes only --user, --yes and --json")
        action = (
            BulkInvalidation.objects.filter(pk=options["revert"]).select_related("petition").first()
        )
        if action is None:
            raise CommandError(f"no bulk invalidation {options['revert']}")
        if not moderated_by(user).filter(pk=action.petition_id).exists():
            raise CommandError(f"{user.username} does not moderate {action.petition.slug}")
        if action.reverted_at is not None:
            raise CommandError(
                f"bulk invalidation {action.pk} was already undone at "
                f"{action.reverted_at.isoformat()}; nothing was changed"
            )
        if not self.as_json:
            self.stdout.write(
                f"bulk invalidation {action.pk} of {action.petition.slug} "
                f"({action.created.isoformat(timespec='seconds')}): "
                f"{len(action.changed)} signature(s), "
                f"reason: {action.reason}"
            )
        self.confirm(f"Undo bulk invalidation {action.pk}?", options)
        try:
            with progress(enabled=False if self.as_json else None) as report:
                skipped = services.revert(action, user, report)
        except SigningError as exc:
            raise CommandError(str(exc)) from None
        left_out = set(skipped)
        restored = [int(i) for i, _ in action.changed if int(i) not in left_out]
        text = (
            f"undone bulk invalidation {action.pk}: {len(restored)} signature(s) of "
            f"{action.petition.slug} are back as they were"
        )
        if skipped:
            text += f"; {len(skipped)} could not be restored (see the audit trail)"
        self.result(
            text,
            {
                "ok": True,
                "action": action.pk,
                "reverted": True,
                "petition": action.petition.slug,
                "actor": user.username,
                "count": len(restored),
                "signatures": restored,
                "skipped": skipped,
            },
        )

    def result(self, text: str, data: dict[str, Any]) -> None:
        self.stdout.write(json.dumps(data, ensure_ascii=False) if self.as_json else text)
