"""Helpers for the sharing tests; the browser fixtures are shared with tests/browser."""

import xml.etree.ElementTree as ET
from typing import Any

from tests.browser.conftest import browser, context, page, playwright  # noqa: F401
from undersigned.ledger.services import integrate
from undersigned.petitions.models import Petition
from undersigned.signing import services as signing
from undersigned.signing.models import Signature
from undersigned.signing.tokens import new_token


def sign(
    petition: Petition, email: str, *, confirm: bool = True, name: str = "A Signer", **fields: Any
) -> Signature:
    """Sign through the service and, unless told not to, confirm as the signer's link would."""
    signature = signing.sign(petition, signing.SignRequest(full_name=name, email=email, **fields))
    if not confirm:
        return signature
    return confirm_now(signature)


def confirm_now(signature: Signature) -> Signature:
    raw, signature.confirm_token_hash = new_token()
    signature.save(update_fields=["confirm_token_hash"])
    return signing.confirm(raw)


def sequence_log() -> None:
    """What the worker does each second: give new log entries their indexes."""
    integrate()


def parse_xml(text: str | bytes) -> ET.Element:
    """Parse SVG this server made (the tests' own output, not untrusted input)."""
    return ET.fromstring(text)  # noqa: S314
