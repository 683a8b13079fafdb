"""The audit log's Merkle tree against RFC 6962: the stored-hash tree gives the same roots as
the definition (MTH of §2.1, written out naively here), the known-answer roots of the
certificate-transparency test vectors, and proofs that verify — and fail once anything in
them changes."""

from __future__ import annotations

import hashlib

import pytest

from audit.domain import tlog

# The eight leaves of the certificate-transparency project's Merkle test vectors and the root
# of each prefix of them (RFC 6962 hashing).
CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 §2.1, word for word."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


class Store:
    """What the service's hash table holds, in memory."""

    def __init__(self) -> None:
        self.hashes: dict[int, bytes] = {}
        self.size = 0

    def append(self, leaf: bytes) -> None:
        siblings = [self.hashes[i] for i in tlog.append_indexes(self.size)]
        for index, h in tlog.append_hashes(self.size, leaf, siblings):
            assert index not in self.hashes  # append-only: nothing is ever rewritten
            self.hashes[index] = h
        self.size += 1
        assert len(self.hashes) == tlog.stored_hash_count(self.size)

    def read(self, indexes: list[int]) -> list[bytes]:
        return [self.hashes[i] for i in indexes]

    def root(self, size: int) -> bytes:
        return tlog.root(size, self.read(tlog.root_indexes(size)))


def grown(leaves: list[bytes]) -> Store:
    store = Store()
    for leaf in leaves:
        store.append(leaf)
    return store


LEAVES = [f"entry {i}".encode() for i in range(70)]
STORE = grown(LEAVES)


def test_the_certificate_transparency_roots() -> None:
    store = grown(CT_LEAVES)
    assert [store.root(n).hex() for n in range(1, 9)] == CT_ROOTS
    assert [mth(CT_LEAVES[:n]).hex() for n in range(1, 9)] == CT_ROOTS
    assert tlog.root(0, []) == hashlib.sha256(b"").digest()


def test_every_prefix_root_equals_the_definition() -> None:
    for size in range(1, len(LEAVES) + 1):
        assert STORE.root(size) == mth(LEAVES[:size]), size


def test_a_proof_reads_logarithmically_many_stored_hashes() -> None:
    for size in (1, 2, 63, 64, 65, 70):
        bound = 2 * size.bit_length()
        assert len(tlog.root_indexes(size)) <= bound
        assert all(len(tlog.inclusion_indexes(i, size)) <= bound for i in range(size))
        assert all(len(tlog.consistency_indexes(m, size)) <= bound for m in range(1, size + 1))


def test_every_inclusion_proof_verifies_and_fails_when_altered() -> None:
    for size in range(1, 40):
        root = mth(LEAVES[:size])
        for index in range(size):
            proof = tlog.inclusion_proof(index, size, STORE.read(tlog.inclusion_indexes(index, size)))
            tlog.verify_inclusion(proof, index, size, LEAVES[index], root)
            with pytest.raises(tlog.ProofError):
                tlog.verify_inclusion(proof, index, size, LEAVES[index] + b"!", root)
            if proof:
                bent = [proof[0][:-1] + bytes([proof[0][-1] ^ 1]), *proof[1:]]
                with pytest.raises(tlog.ProofError):
                    tlog.verify_inclusion(bent, index, size, LEAVES[index], root)
                with pytest.raises(tlog.ProofError):
                    tlog.verify_inclusion(proof[:-1], index, size, LEAVES[index], root)


def test_every_consistency_proof_verifies_and_a_rewrite_fails() -> None:
    rewritten = grown([*LEAVES[:10], b"rewritten", *LEAVES[11:40]])
    for new in range(1, 40):
        for old in range(1, new + 1):
            proof = tlog.consistency_proof(old, new, STORE.read(tlog.consistency_indexes(old, new)))
            tlog.verify_consistency(proof, old, mth(LEAVES[:old]), new, mth(LEAVES[:new]))
            if old > 10:  # the rewritten entry is inside the old tree: no proof can join them
                with pytest.raises(tlog.ProofError):
                    tlog.verify_consistency(proof, old, mth(LEAVES[:old]), new, rewritten.root(new))


def test_out_of_range_requests_are_refused() -> None:
    with pytest.raises(ValueError):
        tlog.inclusion_indexes(5, 5)
    with pytest.raises(ValueError):
        tlog.consistency_indexes(0, 5)
    with pytest.raises(ValueError):
        tlog.consistency_indexes(6, 5)


@pytest.mark.parametrize("start", [0, 1, 5, 7, 8, 13])
def test_extend_stores_what_append_stores_contiguously_from_the_first_leafs_index(start: int) -> None:
    """A batch's appends (one tight loop, indexes implied) store exactly the hashes leaf-by-leaf
    appends store, and the frontier ends the same."""
    leaves = [bytes([i]) * (i % 5 + 1) for i in range(start + 21)]
    one, batch = tlog.Frontier(), tlog.Frontier()
    for raw in leaves[:start]:
        one.append(raw)
        batch.append(raw)
    expected = [pair for raw in leaves[start:] for pair in one.append(raw)]
    got = batch.extend(leaves[start:])
    first = tlog.stored_hash_index(0, start)
    assert list(enumerate(got, first)) == expected
    assert batch.size == one.size and batch.root() == one.root() == mth(leaves)
