"""Webhook signatures against answers computed outside the code under test, and the receiver
snippet users copy from docs/notifications.md run against a signed delivery.

The expected hex strings were computed in a shell, not with Python's hmac:
    printf '%s' '1700000000.{"event":"incident.escalated.v1","n":1}' \\
        | openssl dgst -sha256 -hmac 'whsec_test_key'
    printf '%s' '1700000000.' | openssl dgst -sha256 -hmac 'whsec_test_key'
"""

from __future__ import annotations

import time
from pathlib import Path

from notifications.domain import signing
from notifications.testing import documented_receiver

DOC = Path(__file__).resolve().parents[4] / "docs" / "notifications.md"
KEY = "whsec_test_key"
TIMESTAMP = 1700000000
BODY = b'{"event":"incident.escalated.v1","n":1}'
BODY_HEX = "bc7c185f609945cbd714db228d75ac2295aa6cafa47e894e2d540fc6920165eb"
EMPTY_HEX = "f359bb4477d011247c7648624b34c768e05fa44d58e59a28259f3a16623020e9"


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    assert signing.signature(KEY, TIMESTAMP, BODY) == "sha256=" + BODY_HEX
    assert signing.signature(KEY, TIMESTAMP, b"") == "sha256=" + EMPTY_HEX


def test_verify_accepts_the_known_answer_and_nothing_else() -> None:
    now = TIMESTAMP + 10.0
    assert signing.verify(KEY, TIMESTAMP, BODY, "sha256=" + BODY_HEX, now=now)
    assert not signing.verify(KEY, TIMESTAMP, BODY + b" ", "sha256=" + BODY_HEX, now=now)
    assert not signing.verify(KEY, TIMESTAMP + 1, BODY, "sha256=" + BODY_HEX, now=now)
    assert not signing.verify("other", TIMESTAMP, BODY, "sha256=" + BODY_HEX, now=now)
    assert not signing.verify(KEY, TIMESTAMP, BODY, BODY_HEX, now=now)  # the prefix is part of it
    # A captured request replayed later than the tolerance: refused though the MAC is right.
    assert not signing.verify(KEY, TIMESTAMP, BODY, "sha256=" + BODY_HEX, now=TIMESTAMP + 301.0)


def test_the_documented_receiver_accepts_a_signed_delivery_and_refuses_tampering() -> None:
    verify = documented_receiver(DOC)
    timestamp = int(time.time())  # the snippet reads the real clock, as a receiver would
    headers = {
        signing.TIMESTAMP_HEADER: str(timestamp),
        signing.SIGNATURE_HEADER: signing.signature(KEY, timestamp, BODY),
    }
    assert verify(KEY, headers, BODY)
    assert not verify("other", headers, BODY)
    assert not verify(KEY, headers, BODY.replace(b"1", b"2"))
    old = {signing.TIMESTAMP_HEADER: str(TIMESTAMP), signing.SIGNATURE_HEADER: "sha256=" + BODY_HEX}
    assert not verify(KEY, old, BODY)  # the known answer, but from 2023: a replay
