"""A full sign-confirm-verify run writes no name, address or IP to the logs."""

import logging
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import link_in, second_factor_login
from undersigned.ops.management.commands.worker import run_hourly, run_once
from undersigned.petitions.models import Petition
from undersigned.registers.models import RegisterEntry

pytestmark = pytest.mark.django_db

SECRETS = [
    "Zinovia",
    "Quistberg",
    "zq@mail.example.org",
    "203.0.113.45",
    "203.0.113",
    "lindstrem@council.example.org",
]


def test_no_personal_data_in_the_logs(
    letter: Petition, deliver: Any, caplog: pytest.LogCaptureFixture, settings: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    settings.RATE_LIMIT_CLIENT = "2/600"
    client = Client()
    for _ in range(3):  # the third is rate-limited, which is logged too
        client.post(
            f"/p/{letter.slug}/sign/",
            {
                "full_name": "Zinovia Quistberg",
                "email": "zq@mail.example.org",
                "visibility": "hide",
                "role": "municipal deputy",
                "municipality": "Kolpino",
                "evidence_url": "https://council.example.org/zq",
            },
            REMOTE_ADDR="203.0.113.45",
        )
    client.post(
        link_in(deliver().last_to("zq@mail.example.org"), "confirm"), REMOTE_ADDR="203.0.113.45"
    )
    moderator = User.objects.create_user("mod", "mod@example.org", "pw-for-tests-only")
    letter.moderators.add(moderator)
    mod = second_factor_login(Client(), moderator)
    from undersigned.signing.models import Signature

    signature = Signature.objects.get()
    mod.get(f"/moderation/{signature.pk}/")
    mod.post(
        f"/moderation/{signature.pk}/",
        {"decision": "approve", "entry": RegisterEntry.objects.get(full_name="Anna Belova").pk},
    )
    Client().post(
        "/accounts/login/", {"username": "mod", "password": "wrong"}, REMOTE_ADDR="203.0.113.45"
    )
    run_once()
    run_hourly()
    # SMTP down: the failure is logged, without the address.
    settings.EMAIL_PORT = 1
    client.post("/my-data/", {"email": "zq@mail.example.org"}, REMOTE_ADDR="192.0.2.1")
    run_once()
    # Everything but the test's own SMTP server (aiosmtpd logs as "mail.log").
    ours = [r for r in caplog.records if not r.name.startswith(("mail.", "asyncio"))]
    assert ours, "the run logged nothing at all: the capture is not working"
    assert any(r.name.startswith("undersigned") for r in ours)
    text = "\n".join(r.getMessage() + repr(r.args) for r in ours)
    for secret in SECRETS:
        assert secret not in text, secret
