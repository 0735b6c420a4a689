"""entries.read_verified: the exports' fast reading of the server's own stored entries."""

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from undersigned.tlog import entries

TEXT = "ab" * 32
AT = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)


def verified(**signer: str) -> bytes:
    fields = entries.signer_fields(**{"role": "", "municipality": "", "region": "", **signer})
    return entries.encode(
        event=entries.SIGNATURE_VERIFIED, petition="p", text_sha256=TEXT, time=AT, signer=fields
    )


@given(
    name=st.text(),
    role=st.text(),
    municipality=st.text(),
    region=st.text(),
    shown=st.booleans(),
)
def test_it_reads_what_decode_reads(
    name: str, role: str, municipality: str, region: str, shown: bool
) -> None:
    fields = entries.signer_fields(name, role, municipality, region)
    data = entries.encode(
        event=entries.SIGNATURE_VERIFIED,
        petition="p",
        text_sha256=TEXT,
        time=AT,
        **(
            {"signer": fields}
            if shown
            else {"commitment_hex": entries.commitment(b"\0" * entries.SALT_BYTES, fields)}
        ),
    )
    entry = entries.decode(data)
    assert entries.read_verified(data) == (entry.time, entry.text, entry.signer)
    assert entries.read_verified(memoryview(data)) == (entry.time, entry.text, entry.signer)


def test_it_hands_out_the_stored_strings() -> None:
    time, text, signer = entries.read_verified(verified(name='Вера "В", Орлова\n', region="R"))
    assert (time, text) == ("2025-03-04T05:06:07Z", TEXT)
    assert signer == {"name": 'Вера "В", Орлова\n', "role": "", "municipality": "", "region": "R"}


@pytest.mark.parametrize(
    "data",
    [
        b"\xff",
        b"[]",
        b'{"v":NaN}',
        b"[" * 5000 + b"]" * 5000,
        # A later format version, or none, is never read as this one.
        verified(name="A").replace(b'"v":1', b'"v":2'),
        verified(name="A").replace(b',"v":1', b""),
        verified(name="A").replace(b'"v":1', b'"v":true'),
        # Anything after the object.
        verified(name="A") + b" ",
        verified(name="A") + b"{}",
        # Fields of the wrong type, or missing, or one too many.
        verified(name="A").replace(b'"name":"A"', b'"name":1'),
        verified(name="A").replace(b'"name":"A",', b""),
        verified(name="A").replace(b'"name":"A"', b'"name":"A","nick":"B"'),
        verified(name="A").replace(b'"time":"2025-03-04T05:06:07Z"', b'"time":7'),
        verified(name="A").replace(b'"text":"' + TEXT.encode() + b'"', b'"text":null'),
        verified(name="A").replace(b'"signer":{', b'"signer":null,"x":{'),
    ],
)
def test_anything_else_goes_through_decode_and_is_refused(data: bytes) -> None:
    with pytest.raises(entries.EntryError):
        entries.read_verified(data)


def test_other_events_are_refused() -> None:
    closed = entries.encode(event=entries.PETITION_CLOSED, petition="p", text_sha256=TEXT, time=AT)
    with pytest.raises(entries.EntryError, match=r"signature\.verified"):
        entries.read_verified(closed)
