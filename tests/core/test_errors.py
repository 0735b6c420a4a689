"""Error pages: ours, friendly, and never a traceback."""

from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client

from undersigned.petitions.models import Petition
from undersigned.signing.models import Signature

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords_and_no_debug(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.DEBUG = False


def sign_form() -> dict[str, str]:
    return {"full_name": "Anna Belova", "email": "anna@example.org", "visibility": "show"}


def test_not_found_is_our_page(client: Client) -> None:
    for url in ("/no/such/page/", "/p/no-such-petition/", "/dashboard/x/y/z/"):
        response = client.get(url)
        assert response.status_code == 404, url
        page = response.content.decode()
        assert "There is no page at this address" in page
        assert "Undersigned" in page  # the site's own layout, with its name
        assert 'href="/">See the open petitions' in page
        assert "Traceback" not in page and "URLconf" not in page


def test_a_csrf_failure_is_explained_and_changes_nothing(petition: Petition) -> None:
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(f"/p/{petition.slug}/sign/", sign_form())
    assert response.status_code == 403
    page = response.content.decode()
    assert "This form has expired" in page
    assert "reload the page and submit the form again" in page
    assert "CSRF" not in page  # no jargon, no Django debug page
    assert not Signature.objects.exists()


def test_with_a_csrf_token_the_same_form_works(petition: Petition) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.get(f"/p/{petition.slug}/")
    token = strict.cookies["csrftoken"].value
    response = strict.post(
        f"/p/{petition.slug}/sign/", {**sign_form(), "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert Signature.objects.count() == 1


def test_a_database_outage_is_a_503_with_retry_after(
    petition: Petition, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("could not connect to server: Connection refused")

    # The page and the API read every count through petitions.standing.
    monkeypatch.setattr("undersigned.petitions.standing.read", unavailable)
    visitor = Client(raise_request_exception=False)
    for url in (f"/p/{petition.slug}/", "/api/petitions"):
        response = visitor.get(url)
        assert response.status_code == 503, url
        assert int(response["Retry-After"]) > 0
        page = response.content.decode()
        assert "Temporarily unavailable" in page
        assert "Nothing you submitted in this request was saved" in page
        assert "could not connect" not in page and "Traceback" not in page


def test_an_unexpected_error_is_our_500_without_a_traceback(
    petition: Petition, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internal detail 7f3a")

    monkeypatch.setattr("undersigned.petitions.standing.read", broken)
    response = Client(raise_request_exception=False).get(f"/p/{petition.slug}/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    assert "Traceback" not in page
    assert "secret internal detail" not in page
    assert "RuntimeError" not in page and "site-packages" not in page
    assert not response.has_header("Retry-After")  # not mistaken for an outage


def test_a_bad_host_is_our_400_page(client: Client) -> None:
    response = client.get("/", HTTP_HOST="evil.example.com")
    assert response.status_code == 400
    page = response.content.decode()
    assert "The request could not be understood, so nothing was changed." in page
    assert "evil.example.com" not in page and "ALLOWED_HOSTS" not in page
