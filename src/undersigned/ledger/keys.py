"""The server's log signing key, from the environment or a key file."""

import os
from functools import cache
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from undersigned.tlog.note import NoteError, Signer, generate_signer_key


def default_name() -> str:
    host = urlsplit(settings.SITE_URL).netloc or "localhost"
    return f"{host}/undersigned"


def write_key_file(path: os.PathLike[str] | str, skey: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(skey + "\n")


@cache
def signer() -> Signer:
    skey = settings.LEDGER_SIGNER_KEY.strip()
    path = settings.LEDGER_SIGNER_KEY_FILE
    if not skey:
        if not path.exists():
            if settings.PRODUCTION:
                raise ImproperlyConfigured(
                    "set LEDGER_SIGNER_KEY or LEDGER_SIGNER_KEY_FILE "
                    "(make one with `undersigned keygen`)"
                )
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                write_key_file(path, generate_signer_key(default_name()))
            except FileExistsError:
                pass  # another process made it first
        skey = path.read_text().strip()
    try:
        return Signer.from_key(skey)
    except (NoteError, ValueError) as exc:
        raise ImproperlyConfigured(f"the log signing key is not valid: {exc}") from None
