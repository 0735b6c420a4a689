import base64
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db


def code_for(key: str, drift: int = 0) -> str:
    return f"{totp(base64.b32decode(key + '=' * (-len(key) % 8)), drift=drift):06d}"


@pytest.fixture
def moderator() -> User:
    user = User.objects.create_user("mod", "mod@example.org", "a long pass phrase")
    return user


PASSWORD = "a long pass phrase"


def log_in(client: Client, password: str = PASSWORD) -> int:
    return client.post("/accounts/login/", {"username": "mod", "password": password}).status_code


def test_a_moderator_must_enroll_then_confirm_a_code(client: Client, moderator: User) -> None:
    log_in(client)
    response = client.get("/moderation/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/setup/")
    page = client.get(response["Location"]).content.decode()
    key = re.search(r"Key: <code[^>]*>([A-Z2-7]+)</code>", page)
    assert key and 'src="data:image/svg+xml;base64,' in page
    wrong = client.post(response["Location"], {"code": "000000"})
    assert wrong.status_code == 400
    assert not TOTPDevice.objects.filter(user=moderator, confirmed=True).exists()
    # A failure makes the device wait before it accepts a code; the user waits.
    TOTPDevice.objects.update(throttling_failure_count=0, throttling_failure_timestamp=None)
    right = client.post(response["Location"], {"code": code_for(key.group(1))})
    assert right.status_code == 302 and right["Location"] == "/moderation/"
    assert client.get("/moderation/").status_code == 200

    # Next session: password, then the code from the same app.
    again = Client()
    log_in(again)
    redirect = again.get("/moderation/")["Location"]
    assert redirect.startswith("/accounts/2fa/verify/")
    assert again.post(redirect, {"code": "abc"}).status_code == 400  # not 6 digits: no try
    assert again.get("/moderation/").status_code == 302
    # A code is good once; the app's next code (30 s later) opens the new session.
    assert again.post(redirect, {"code": code_for(key.group(1))}).status_code == 400
    TOTPDevice.objects.update(throttling_failure_count=0, throttling_failure_timestamp=None)
    assert again.post(redirect, {"code": code_for(key.group(1), drift=1)}).status_code == 302
    assert again.get("/moderation/").status_code == 200


def test_the_next_parameter_cannot_send_you_elsewhere(client: Client, moderator: User) -> None:
    log_in(client)
    device = TOTPDevice.objects.create(user=moderator, name="a", confirmed=True)
    key = base64.b32encode(device.bin_key).decode().rstrip("=")
    response = client.post(
        "/accounts/2fa/verify/?next=https://evil.example/", {"code": code_for(key)}
    )
    assert response["Location"] == "/moderation/"


def test_repeated_wrong_passwords_lock_the_account(
    client: Client, moderator: User, settings: object
) -> None:
    for attempt in range(4):
        assert log_in(client, "wrong") == 200, attempt
    assert log_in(client, "wrong") == 429  # the fifth failure locks
    locked = client.post("/accounts/login/", {"username": "mod", "password": "a long pass phrase"})
    assert locked.status_code == 429
    assert "Too many failed log-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # Another account is not locked by it.
    User.objects.create_user("other", "o@example.org", "another pass phrase")
    other = Client(REMOTE_ADDR="192.0.2.50")
    ok = other.post(
        "/accounts/login/",
        {"username": "other", "password": "another pass phrase"},
        REMOTE_ADDR="192.0.2.50",
    )
    assert ok.status_code == 302


def test_the_admin_asks_for_the_code(client: Client) -> None:
    User.objects.create_superuser("root", "root@example.org", "a long pass phrase")
    page = client.get("/admin/login/").content.decode()
    assert 'name="otp_token"' in page
    response = client.post(
        "/admin/login/",
        {"username": "root", "password": "a long pass phrase", "otp_token": "123456"},
    )
    assert response.status_code == 200  # refused: no device, wrong code
    assert client.get("/admin/").status_code == 302
