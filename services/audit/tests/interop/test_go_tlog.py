"""The audit log's checkpoints and proofs, checked by an implementation this project did not
write: Go's checksum-database packages (golang.org/x/mod/sumdb/note and sumdb/tlog), fetched
from the Go module proxy and built here (tests/tlogcheck/main.go). What it accepts and refuses
must match what our own verifier accepts and refuses."""

from __future__ import annotations

import base64
import json
from typing import Any
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.domain import checkpoint as cp
from audit.domain import tlog


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class Log:
    def __init__(self, leaves: list[bytes]) -> None:
        self.leaves = leaves
        self.hashes: dict[int, bytes] = {}
        for n, leaf in enumerate(leaves):
            siblings = [self.hashes[i] for i in tlog.append_indexes(n)]
            self.hashes.update(tlog.append_hashes(n, leaf, siblings))

    def read(self, indexes: list[int]) -> list[bytes]:
        return [self.hashes[i] for i in indexes]

    def root(self, size: int) -> bytes:
        return tlog.root(size, self.read(tlog.root_indexes(size)))


def test_go_accepts_what_we_accept_and_refuses_what_we_refuse(go_verifier: Any) -> None:
    tenant = UUID("5f0c3a52-8d1e-4c3b-9a55-0d7e1c2b3a41")
    key = Ed25519PrivateKey.generate()
    name = cp.origin(tenant)
    verifier = cp.verifier_key(name, cp.public_bytes(key.public_key()))
    log = Log([json.dumps({"index": i, "event": "incident.created.v1"}).encode() for i in range(300)])
    sizes = [1, 2, 3, 7, 8, 9, 64, 100, 255, 256, 257, 300]
    notes = [cp.sign(cp.Checkpoint(name, n, log.root(n)), name, key) for n in sizes]
    forged = notes[-1].replace("\n300\n", "\n299\n")  # body changed after signing
    inclusion = [
        {
            "note": k,
            "index": i,
            "proof": [b64(h) for h in tlog.inclusion_proof(i, n, log.read(tlog.inclusion_indexes(i, n)))],
        }
        for k, n in enumerate(sizes)
        for i in sorted({0, n // 2, n - 1} | ({5} if n > 5 else set()))
    ]
    consistency = [
        {
            "from_note": a,
            "to_note": b,
            "proof": [
                b64(h)
                for h in tlog.consistency_proof(
                    sizes[a], sizes[b], log.read(tlog.consistency_indexes(sizes[a], sizes[b]))
                )
            ],
        }
        for a in range(len(sizes))
        for b in range(a, len(sizes))
    ]
    # Altered on purpose: a leaf that is not the one logged, and a consistency proof from a
    # log rewritten at entry 5.
    rewritten = Log([*log.leaves[:5], b"rewritten", *log.leaves[6:]])
    real_64_300 = next(
        c["proof"] for c in consistency if (c["from_note"], c["to_note"]) == (sizes.index(64), len(sizes) - 1)
    )
    rewritten_note = cp.sign(cp.Checkpoint(name, 300, rewritten.root(300)), name, key)
    request = {
        "verifier": verifier,
        "notes": [*notes, forged, rewritten_note],
        "leaves": {str(i): b64(leaf) for i, leaf in enumerate(log.leaves)}
        | {"5": b64(b"not the logged entry")},
        "inclusion": inclusion,
        "consistency": [
            *consistency,
            {"from_note": sizes.index(64), "to_note": len(notes) + 1, "proof": real_64_300},
        ],
    }
    # Entry 5's leaf is replaced in the request: every inclusion proof of index 5 must fail.
    result = go_verifier(request)

    assert [v["ok"] for v in result["notes"]] == [True] * len(notes) + [False, True]
    assert [v["size"] for v in result["notes"][: len(notes)]] == sizes
    for ours in notes:
        cp.open_note(ours, verifier)
    with pytest.raises(cp.CheckpointError):
        cp.open_note(forged, verifier)

    for claim, verdict in zip(inclusion, result["inclusion"], strict=True):
        index, size = claim["index"], sizes[claim["note"]]
        expected = index != 5
        assert verdict["ok"] is expected, (claim, verdict)
        leaf = log.leaves[index] if expected else b"not the logged entry"
        proof = [base64.b64decode(h) for h in claim["proof"]]
        if expected:
            tlog.verify_inclusion(proof, index, size, leaf, log.root(size))
        else:
            with pytest.raises(tlog.ProofError):
                tlog.verify_inclusion(proof, index, size, leaf, log.root(size))
    assert sum(1 for v in result["inclusion"] if v["ok"]) > 20

    assert all(v["ok"] for v in result["consistency"][:-1])
    assert result["consistency"][-1]["ok"] is False  # the rewritten log is no extension of size 64
    with pytest.raises(tlog.ProofError):
        proof_64_300 = [base64.b64decode(h) for h in real_64_300]
        tlog.verify_consistency(proof_64_300, 64, log.root(64), 300, rewritten.root(300))
