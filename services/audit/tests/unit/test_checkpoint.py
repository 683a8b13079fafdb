"""Signed checkpoints: the C2SP note layout, the key hash and verifier key of the signed-note
format (recomputed here from their definitions), and refusal of anything altered."""

from __future__ import annotations

import base64
import hashlib
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.domain import checkpoint as cp

TENANT = UUID("00000000-0000-4000-8000-000000000001")
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
NAME = cp.origin(TENANT)
PUBLIC = cp.public_bytes(KEY.public_key())
VERIFIER = cp.verifier_key(NAME, PUBLIC)
ROOT = hashlib.sha256(b"root").digest()


def test_the_note_layout_and_key_hash_follow_the_signed_note_format() -> None:
    note = cp.sign(cp.Checkpoint(NAME, 7, ROOT), NAME, KEY)
    body, signature_line = note.split("\n\n")
    assert body + "\n" == f"incident-platform/audit/{TENANT}\n7\n{base64.b64encode(ROOT).decode()}\n"
    dash, name, stamp = signature_line.rstrip("\n").split(" ")
    assert (dash, name) == ("\u2014", NAME) and note.endswith("\n")
    raw = base64.b64decode(stamp)
    expected_hash = hashlib.sha256(NAME.encode() + b"\n\x01" + PUBLIC).digest()[:4]
    assert raw[:4] == expected_hash and len(raw) == 68
    KEY.public_key().verify(raw[4:], (body + "\n").encode())  # raises if not a signature of the body
    encoded_key = base64.b64encode(b"\x01" + PUBLIC).decode()
    assert f"{NAME}+{expected_hash.hex()}+{encoded_key}" == VERIFIER


def test_a_note_opens_with_its_verifier_and_nothing_altered_does() -> None:
    note = cp.sign(cp.Checkpoint(NAME, 7, ROOT), NAME, KEY)
    assert cp.open_note(note, VERIFIER) == cp.Checkpoint(NAME, 7, ROOT)
    with pytest.raises(cp.CheckpointError, match="does not verify"):
        cp.open_note(note.replace("\n7\n", "\n8\n"), VERIFIER)
    other = Ed25519PrivateKey.from_private_bytes(bytes(32))
    with pytest.raises(cp.CheckpointError, match="no signature"):
        cp.open_note(note, cp.verifier_key(NAME, cp.public_bytes(other.public_key())))
    with pytest.raises(cp.CheckpointError):
        cp.open_note("not a note", VERIFIER)


def test_a_bad_verifier_key_is_refused() -> None:
    name, public = cp.parse_verifier_key(VERIFIER)
    assert (name, public) == (NAME, PUBLIC)
    wrong_hash = VERIFIER.replace(VERIFIER.split("+")[1], "00000000")
    with pytest.raises(cp.CheckpointError, match="hash"):
        cp.parse_verifier_key(wrong_hash)
    with pytest.raises(ValueError):
        cp.verifier_key("has space", PUBLIC)
