from argparse import ArgumentParser
from typing import Any

from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Count, F, Q
from django.db.models.functions import Coalesce

from undersigned.core.management.base import ExamplesCommand
from undersigned.petitions.models import Petition, Tally
from undersigned.signing.models import Signature

State = Signature.State


Counts = tuple[int, int, int, int]


def actual_counts(petition: Petition) -> dict[tuple[str, str], Counts]:
    """(verified, awaiting, verified hidden, verified on paper) per place, from the rows."""
    rows = (
        Signature.objects.filter(petition=petition)
        .annotate(
            place_region=Coalesce("register_entry__region", "region"),
            place_municipality=Coalesce("register_entry__municipality", "municipality"),
        )
        .values("place_region", "place_municipality")
        .annotate(
            verified=Count("id", filter=Q(state=State.VERIFIED)),
            awaiting=Count("id", filter=Q(state__in=[State.CONFIRMED, State.NEEDS_REVIEW])),
            hidden=Count("id", filter=Q(state=State.VERIFIED, show_name=False)),
            paper=Count("id", filter=Q(state=State.VERIFIED, channel=Signature.Channel.PAPER)),
        )
    )
    return {
        (r["place_region"], r["place_municipality"]): (
            r["verified"],
            r["awaiting"],
            r["hidden"],
            r["paper"],
        )
        for r in rows
        if r["verified"] or r["awaiting"]
    }


def drift(petition: Petition) -> list[str]:
    actual = actual_counts(petition)
    kept = {
        (t.region, t.municipality): (t.verified, t.awaiting, t.verified_hidden, t.verified_paper)
        for t in Tally.objects.filter(petition=petition)
        if t.verified or t.awaiting or t.verified_hidden or t.verified_paper
    }
    problems = []
    for place in sorted(set(actual) | set(kept)):
        want, have = actual.get(place, (0, 0, 0, 0)), kept.get(place, (0, 0, 0, 0))
        if want != have:
            line = (
                f"{petition.slug} {place[0] or '-'}/{place[1] or '-'}: tally says "
                f"{have[0]} verified, {have[1]} awaiting; rows say {want[0]} verified, "
                f"{want[1]} awaiting"
            )
            if want[2] != have[2]:
                line += f"; of the verified, hidden: tally says {have[2]}, rows say {want[2]}"
            if want[3] != have[3]:
                line += f"; of the verified, on paper: tally says {have[3]}, rows say {want[3]}"
            problems.append(line)
    return problems


class Command(ExamplesCommand):
    help = """Prove the tallies equal the signature rows, and report any drift.

examples:
  undersigned reconcile                  # check every petition
  undersigned reconcile --petition SLUG
  undersigned reconcile --fix            # rewrite drifted tallies from the rows

Exit status: 0 all tallies match, 1 drift found (and fixed, with --fix)."""

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--petition", help="only this petition's slug")
        parser.add_argument("--fix", action="store_true", help="rewrite drifted tallies")

    def handle(self, *args: Any, **options: Any) -> None:
        petitions = Petition.objects.order_by("slug")
        if options["petition"]:
            petitions = petitions.filter(slug=options["petition"])
            if not petitions.exists():
                raise CommandError(f"no petition with slug {options['petition']!r}")
        found = 0
        for petition in petitions:
            with transaction.atomic():
                problems = drift(petition)
                for line in problems:
                    self.stdout.write(line)
                found += len(problems)
                if problems and options["fix"]:
                    Tally.objects.filter(petition=petition).update(
                        verified=0, awaiting=0, verified_hidden=0, verified_paper=0
                    )
                    for (region, municipality), (v, a, h, p) in actual_counts(petition).items():
                        Tally.objects.update_or_create(
                            petition=petition,
                            region=region,
                            municipality=municipality,
                            defaults={
                                "verified": v,
                                "awaiting": a,
                                "verified_hidden": h,
                                "verified_paper": p,
                            },
                        )
                    # Counted as a change (petitions.standing), so that no copy
                    # of the drifted counts is taken for these.
                    Tally.objects.filter(petition=petition).update(changes=F("changes") + 1)
        if found:
            fixed = " (fixed)" if options["fix"] else ""
            raise CommandError(f"{found} tally drift(s) found{fixed}", returncode=1)
        self.stdout.write(f"tallies match the rows for {petitions.count()} petition(s)")
