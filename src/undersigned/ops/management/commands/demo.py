import io
import os
import secrets
from argparse import ArgumentParser
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.db import transaction
from django.utils import timezone

from undersigned.accounts.services import mark_confirmed
from undersigned.core import custody, demo_data
from undersigned.core.management.base import ExamplesCommand
from undersigned.ledger import demo_witness
from undersigned.moderation import submissions as office
from undersigned.outbox.models import OutgoingMail
from undersigned.petitions import services as petitions
from undersigned.petitions import submissions, translations
from undersigned.petitions.models import Petition, Standard, TextVersion
from undersigned.registers.models import Register, RegisterEntry
from undersigned.registers.services import import_register
from undersigned.signing import services as signing
from undersigned.signing import supporters
from undersigned.signing.models import Signature
from undersigned.signing.tokens import new_token


def custody_key_file(recipient: str) -> Path:
    """Where the demo keeps its custody key: a moderator's machine, played by the home directory."""
    default = Path.home() / ".undersigned-demo" / "custody"
    folder = Path(os.environ.get("UNDERSIGNED_DEMO_CUSTODY_DIR", default))
    return folder / f"demo-{recipient[4:16]}.age"


LETTER_SLUG = "municipal-deputies-letter"
PETITION_SLUG = "kolpino-riverside-park"
SUBMISSION_SLUG = "light-the-izhora-footpath"
REGISTER = "Municipal deputies (demo)"


def _confirm_now(signature: Signature) -> Signature:
    """What the signer's click on the mailed link does, done here for the demo's data."""
    raw, signature.confirm_token_hash = new_token()
    signature.save(update_fields=["confirm_token_hash"])
    return signing.confirm(raw)


def _csv(people: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    out.write("full_name,role,municipality,region,email\n")
    for p in people:
        out.write(
            f'"{p["full_name"]}","{p["role"]}","{p["municipality"]}","{p["region"]}",{p["email"]}\n'
        )
    return out.getvalue().encode()


class Command(ExamplesCommand):
    help = """Load the demo: an open letter of municipal deputies with a register of 200
fictional deputies, 18 verified founders and a review queue with spelling variants, plus a
public petition anyone may sign, and a witness on loopback to cosign the log (unless
LEDGER_WITNESSES is set). Safe to run again: it only resets the demo logins.

examples:
  undersigned demo
  undersigned demo --quiet     # only the logins: "moderator PASSWORD", one per line"""

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--quiet",
            action="store_true",
            help='print only the logins, one "USER PASSWORD" per line',
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not Petition.objects.filter(slug=LETTER_SLUG).exists():
            with transaction.atomic():
                self.load()
        passwords = self.reset_logins()
        witnessed = demo_witness.prepare()
        if options["quiet"]:
            for name in ("moderator", "organiser", "admin"):
                self.stdout.write(f"{name} {passwords[name]}")
            return
        site = settings.SITE_URL
        outbox = settings.EMAIL_HOST and f"SMTP {settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
        self.stdout.write(f"""
Undersigned demo
  open letter      {site}/p/{LETTER_SLUG}/
  public petition  {site}/p/{PETITION_SLUG}/
  review queue     {site}/moderation/   login: moderator / {passwords["moderator"]}
  submissions      {site}/moderation/submissions/   (the moderator decides)
  organiser        {site}/dashboard/    login: organiser / {passwords["organiser"]}
  admin            {site}/admin/        login: admin / {passwords["admin"]}
  JSON API         {site}/api/petitions   (docs: {site}/api/docs)
  public log       {site}/log/
  check the count  .venv/bin/undersigned verify {site}/ --key "$(curl -s {site}/log/key)"
  mail goes to     {outbox or settings.EMAIL_FILE_PATH}
{self.witness_note(witnessed)}{self.keys_note()}{self.custody_note()}""")

    def witness_note(self, line: str | None) -> str:
        if line is None:
            return ""
        site, listen = settings.SITE_URL, demo_witness.listen_address()
        return (
            f"  witness          one witness on http://{listen}/, the demo's\n"
            "                   quorum, cosigns each checkpoint (serve --with-worker starts it);\n"
            f"                   its key and state are in {demo_witness.data_dir()}\n"
            f"  require it       curl -s {site}/log/policy > demo.policy &&\n"
            f"                   .venv/bin/undersigned verify {site}/ --policy demo.policy\n"
        )

    def custody_note(self) -> str:
        letter = Petition.objects.filter(slug=LETTER_SLUG).first()
        key_file = custody_key_file(letter.custody_recipient) if letter else None
        if key_file is None or not key_file.exists():
            return ""
        return (
            f"  custody key      the demo's private custody key went to {key_file}\n"
            f"                   (its passphrase beside it, in {key_file.name}.passphrase);\n"
            "                   open what the demo sealed with: undersigned custody open EXPORT"
            f" --key {key_file}\n"
            "                   In production it is made on a moderator's own machine\n"
            "                   (undersigned custody keygen) and never touches the server.\n"
        )

    def keys_note(self) -> str:
        made = [
            name
            for name, env in (
                ("SECRET_KEY", "SECRET_KEY"),
                ("the hash key", "UNDERSIGNED_HASH_KEY"),
                ("the log signing key", "LEDGER_SIGNER_KEY"),
            )
            if not os.environ.get(env)
        ]
        if not made:
            return ""
        return (
            f"  keys             {', '.join(made)}: generated into {settings.DATA_DIR}\n"
            "                   (set them in the environment in production)\n"
        )

    def load_office(self, moderator: User) -> None:
        """The petitions office's queue: a submission with its supporters awaiting the
        moderator, and one rejected as a duplicate of the riverside park petition."""
        citizen = User.objects.create_user("citizen", "citizen@example.org")
        mark_confirmed(citizen)
        made = []
        for slug, title, body in (
            (SUBMISSION_SLUG, demo_data.SUBMISSION_TITLE, demo_data.SUBMISSION_BODY),
            ("save-the-riverside-park", demo_data.DUPLICATE_TITLE, demo_data.DUPLICATE_BODY),
        ):
            draft = Petition.objects.create(
                slug=slug,
                organiser=citizen,
                organiser_name=demo_data.SUBMISSION_CREATOR,
                addressee="The Administration of the Kolpino District",
            )
            TextVersion.objects.create(petition=draft, number=1, title=title, body=body)
            submitted = submissions.submit(draft, citizen, language="en")
            for n, name in enumerate(demo_data.SUPPORTERS[: submissions.supporters_needed()]):
                request = signing.SignRequest(
                    full_name=name, email=f"supporter{n}.{slug}@mail.example.org"
                )
                _confirm_now(supporters.support(submitted, request))
            made.append(Petition.objects.get(pk=submitted.pk))
        duplicate = made[1]
        office.reject(
            duplicate,
            moderator,
            standard=Standard.objects.get(code="duplicate"),
            note="The riverside park petition asks for the same: please sign it instead.",
            original=PETITION_SLUG,
        )

    def reset_logins(self) -> dict[str, str]:
        passwords = {}
        for name in ("admin", "organiser", "moderator"):
            user, _ = User.objects.get_or_create(
                username=name, defaults={"email": f"{name}@example.org"}
            )
            if name == "admin" and not user.is_superuser:
                user.is_staff = user.is_superuser = True
                user.save(update_fields=["is_staff", "is_superuser"])
            passwords[name] = secrets.token_urlsafe(9)
            user.set_password(passwords[name])
            user.save(update_fields=["password"])
            # Their example.org addresses take no mail: taken as confirmed, so they may publish.
            mark_confirmed(user)
        # The demo's organiser is one the office trusts: they publish without moderation
        # (PUBLISHING=reviewed); anyone who signs up submits.
        organiser = User.objects.get(username="organiser")
        organiser.user_permissions.add(
            Permission.objects.get(content_type__app_label="petitions", codename="publish_directly")
        )
        return passwords

    def make_custody_key(self) -> str:
        """The demo's custody key pair: the private half outside the site's data directory."""
        identity, recipient = custody.new_identity()
        key_file = custody_key_file(recipient)
        key_file.parent.mkdir(parents=True, exist_ok=True)
        passphrase = secrets.token_urlsafe(18)
        for path, text in ((key_file, custody.lock_identity(identity, passphrase)),
                           (Path(f"{key_file}.passphrase"), passphrase + "\n")):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(text)
        return recipient

    def load(self) -> None:
        recipient = settings.CUSTODY_RECIPIENT or self.make_custody_key()
        mail_before = OutgoingMail.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        User.objects.create_superuser("admin", "admin@example.org", secrets.token_urlsafe(12))
        organiser = User.objects.create_user("organiser", "organiser@example.org")
        moderator = User.objects.create_user("moderator", "moderator@example.org")
        moderator.user_permissions.add(Permission.objects.get(codename="moderate_any"))

        people = demo_data.register_people()
        result = import_register(REGISTER, _csv(people), description="Fictional, for the demo.")
        assert result.ok, result.errors
        register = Register.objects.get(name=REGISTER)
        # Its name, places and role in Russian too, for the letter's Russian page.
        register.translations = demo_data.REGISTER_TRANSLATIONS
        register.full_clean()
        register.save(update_fields=["translations"])

        letter = Petition.objects.create(
            slug=LETTER_SLUG,
            kind=Petition.Kind.LETTER,
            audience=Petition.Audience.REGISTER,
            register=register,
            organiser=organiser,
            # A name alone reads the same on the Russian and the English page.
            organiser_name=demo_data.ORGANISER[0],
            thresholds=[50, 100],
            custody_recipient=recipient,
        )
        letter.moderators.add(moderator)
        # Written in Russian; its English translation is published with it.
        TextVersion.objects.create(
            petition=letter,
            number=1,
            title=demo_data.LETTER_TITLE_RU,
            body=demo_data.LETTER_BODY_RU,
            language="ru",
        )
        translations.add_translation(
            letter,
            organiser,
            title=demo_data.LETTER_TITLE,
            body=demo_data.LETTER_BODY,
            language="en",
        )
        entries = list(RegisterEntry.objects.filter(register=register).order_by("id"))
        # 18 founders, all with official addresses so they verify on confirmation.
        founders = [e for e in entries if e.official_email][:18]
        for entry in founders:
            signature = signing.sign(
                letter,
                signing.SignRequest(
                    full_name=entry.full_name,
                    email=entry.official_email,
                    role=entry.role,
                    municipality=entry.municipality,
                    region=entry.region,
                ),
                added_by=organiser,
            )
            _confirm_now(signature)
        petitions.publish(letter, organiser)
        letter.refresh_from_db()

        # Claims a moderator must check: no official address, names spelled differently.
        for i, (name, municipality, _) in enumerate(demo_data.SPELLING_VARIANTS):
            signature = signing.sign(
                letter,
                signing.SignRequest(
                    full_name=name,
                    email=f"signer{i}@mail.example.org",
                    role="municipal deputy",
                    municipality=municipality,
                    show_name=i % 4 != 3,
                    evidence_url=f"https://council.example.org/deputies/{i}",
                ),
            )
            _confirm_now(signature)

        petition = Petition.objects.create(
            slug=PETITION_SLUG,
            kind=Petition.Kind.PETITION,
            organiser=organiser,
            organiser_name="Friends of the Izhora riverside",
            addressee="The Administration of the Kolpino District",
            # The demo's steps come within reach of its signatures (issue 14 §2).
            response_threshold=100,
            debate_threshold=1000,
            thresholds=[100, 1000],
            deadline=timezone.now() + timedelta(days=60),
            custody_recipient=recipient,
        )
        TextVersion.objects.create(
            petition=petition,
            number=1,
            title=demo_data.PETITION_TITLE,
            body=demo_data.PETITION_BODY,
            language="en",
        )
        petitions.publish(petition, organiser)
        petition.refresh_from_db()
        for i in range(40):
            first, _ = demo_data.FIRST[i % len(demo_data.FIRST)]
            last = demo_data.LAST[(i * 7) % len(demo_data.LAST)][0]
            signature = signing.sign(
                petition,
                signing.SignRequest(
                    full_name=f"{first} {last}",
                    email=f"neighbour{i}@mail.example.org",
                    show_name=i % 3 != 0,
                    region="St Petersburg",
                    municipality="Kolpino",
                ),
            )
            _confirm_now(signature)
        self.load_office(moderator)
        # The demo's people are fictional: their confirmation mails are not sent.
        OutgoingMail.objects.filter(pk__gt=mail_before).delete()
