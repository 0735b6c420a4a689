"""Every public form and the register import under arbitrary input: a clear answer, never a
server error, and never a partial write."""

import pytest
from django.core.cache import caches
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from undersigned.abuse.models import SigningSource
from undersigned.outbox.models import OutgoingMail
from undersigned.petitions.models import Petition, Tally
from undersigned.privacy.models import DataRequest
from undersigned.registers.models import Register, RegisterEntry
from undersigned.registers.services import import_register
from undersigned.signing.models import Signature

pytestmark = pytest.mark.django_db

# Text a hostile or careless visitor might send: any code point, control
# characters, huge values, or nothing.
nasty_text = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F), max_size=20),
    st.sampled_from(
        [
            "",
            " ",
            "<script>alert(1)</script>",
            "A" * 5000,
            "\u202e",
            "😀" * 50,
            "a@b",
            "x@mailinator.com",
            "Anna Belova",
            "anna@example.org",
        ]
    ),
)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def counts() -> tuple[int, ...]:
    return (
        Signature.objects.count(),
        OutgoingMail.objects.count(),
        Tally.objects.count(),
        SigningSource.objects.count(),
        DataRequest.objects.count(),
        RegisterEntry.objects.count(),
        Register.objects.count(),
    )


@FUZZ
@given(
    data=st.dictionaries(
        st.sampled_from(
            [
                "full_name",
                "email",
                "visibility",
                "role",
                "municipality",
                "region",
                "evidence_url",
                "unexpected",
            ]
        ),
        nasty_text,
        max_size=8,
    )
)
def test_sign_form(petition: Petition, letter: Petition, data: dict[str, str]) -> None:
    caches["default"].clear()  # each example starts with fresh rate limits
    for target in (petition, letter):
        with transaction.atomic():
            before = counts()
            response = Client(raise_request_exception=False).post(f"/p/{target.slug}/sign/", data)
            assert response.status_code in (302, 400, 429), response.status_code
            if response.status_code != 302:
                assert counts() == before
            else:
                # One signature (or the existing one) and exactly one mail.
                assert counts()[0] - before[0] in (0, 1)
                assert counts()[1] - before[1] == 1
            transaction.set_rollback(True)


@FUZZ
@given(email=nasty_text)
def test_my_data_form(db: None, email: str) -> None:
    with transaction.atomic():
        before = counts()
        response = Client(raise_request_exception=False).post("/my-data/", {"email": email})
        assert response.status_code in (200, 400, 429)
        grew = tuple(a - b for a, b in zip(counts(), before, strict=True))
        if response.status_code == 200:
            # A link request and its mail, whether or not anyone signed with the
            # address (none past the per-address limit); nothing else.
            assert grew in ((0, 0, 0, 0, 0, 0, 0), (0, 1, 0, 0, 1, 0, 0))
        else:
            assert not any(grew)
        transaction.set_rollback(True)


@FUZZ
@given(
    fields=st.dictionaries(
        st.sampled_from(
            ["username", "password", "password1", "password2", "email", "receipt", "code"]
        ),
        nasty_text,
        max_size=5,
    )
)
def test_account_and_receipt_forms(db: None, fields: dict[str, str]) -> None:
    for path in ("/accounts/login/", "/accounts/signup/", "/log/check-receipt/"):
        with transaction.atomic():
            response = Client(raise_request_exception=False).post(path, fields)
            assert response.status_code in (200, 302, 400, 429), (path, response.status_code)
            transaction.set_rollback(True)


@FUZZ
@given(
    token=st.text(
        alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="/?#%"),
        min_size=1,
        max_size=200,
    )
)
def test_link_pages_with_any_token(db: None, token: str) -> None:
    for path in (
        f"/confirm/{token}/",
        f"/withdraw/{token}/",
        f"/my-data/{token}/",
        f"/receipt/{token}/",
    ):
        for method in ("get", "post"):
            with transaction.atomic():
                before = counts()
                response = getattr(Client(raise_request_exception=False), method)(path)
                assert response.status_code in (400, 404, 405), (path, response.status_code)
                assert counts() == before
                transaction.set_rollback(True)


csv_text = st.lists(
    st.lists(nasty_text, min_size=0, max_size=6).map(lambda cells: ",".join(cells)),
    max_size=8,
).map(lambda rows: "\n".join(["full_name,role,municipality,region,email", *rows]))


@FUZZ
@given(body=st.one_of(csv_text.map(str.encode), st.binary(max_size=2000)))
def test_register_import_is_all_or_nothing(db: None, body: bytes) -> None:
    with transaction.atomic():
        before = RegisterEntry.objects.count()
        result = import_register("Fuzzed", body)
        if result.ok:
            assert RegisterEntry.objects.count() - before == result.imported
        else:
            assert RegisterEntry.objects.count() == before
            assert all(str(error) for error in result.errors)
        transaction.set_rollback(True)
