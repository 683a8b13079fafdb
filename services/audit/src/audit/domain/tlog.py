"""The audit log's Merkle tree: RFC 6962 §2.1 hashing (RFC 9162 keeps it), stored the way Go's
``golang.org/x/mod/sumdb/tlog`` stores it, so inclusion and consistency proofs read O(log n)
stored hashes instead of recomputing the tree (docs/adr/0010-audit-transparency-log.md).

Every complete subtree's hash is stored once, under a *stored hash index*: appending leaf n
stores its leaf hash and the hash of each subtree that leaf completes (on average two hashes a
leaf). Any tree hash or proof is a handful of those hashes combined.

Written here, not taken from a library: the Python Merkle libraries either keep the tree in
their own storage (memory, SQLite) or only verify; this service keeps the hashes in its own
PostgreSQL table. Pure: the functions that need stored hashes come in pairs, one naming the
indexes to read (``*_indexes``), one combining the hashes read (in the same order).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

Hash = bytes

EMPTY_ROOT: Hash = hashlib.sha256(b"").digest()  # RFC 6962: the hash of an empty tree


class ProofError(ValueError):
    """A proof does not lead to the expected tree hash."""


def leaf_hash(leaf: bytes) -> Hash:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: Hash, right: Hash) -> Hash:
    return hashlib.sha256(b"\x01" + left + right).digest()


# --------------------------------------------------------------------------- storage layout


def stored_hash_index(level: int, n: int) -> int:
    """Where the hash of level ``level``'s n-th complete subtree is stored."""
    for _ in range(level):
        n = 2 * n + 1  # written right after level L+1's (2n+1)-th hash; down to level 0
    i = 0
    while n > 0:
        i += n
        n >>= 1
    return i + level


def stored_hash_count(size: int) -> int:
    """How many hashes a tree of ``size`` leaves has stored."""
    if size == 0:
        return 0
    count = stored_hash_index(0, size - 1) + 1
    i = size - 1
    while i & 1:
        count += 1
        i >>= 1
    return count


def _trailing_ones(n: int) -> int:
    count = 0
    while n & 1:
        count += 1
        n >>= 1
    return count


def append_indexes(n: int) -> list[int]:
    """The stored hashes appending leaf n combines with its own hash: the left siblings of the
    subtrees it completes, in storage order."""
    m = _trailing_ones(n)
    return [stored_hash_index(i, (n >> i) - 1) for i in reversed(range(m))]


def append_hashes(n: int, leaf: bytes, siblings: Sequence[Hash]) -> list[tuple[int, Hash]]:
    """The (index, hash) pairs to store for leaf n: its leaf hash, then each completed subtree.
    ``siblings`` are the hashes at ``append_indexes(n)``."""
    m = _trailing_ones(n)
    if len(siblings) != m:
        raise ValueError(f"leaf {n} needs {m} stored hashes, got {len(siblings)}")
    h = leaf_hash(leaf)
    first = stored_hash_index(0, n)
    result = [(first, h)]
    for i in range(m):
        h = node_hash(siblings[m - 1 - i], h)
        result.append((first + 1 + i, h))
    return result


def _maxpow2(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


def _subtree_indexes(lo: int, hi: int, need: list[int]) -> None:
    while lo < hi:
        k = _maxpow2(hi - lo + 1)
        level = k.bit_length() - 1
        need.append(stored_hash_index(level, lo >> level))
        lo += k


def _subtree_hash(lo: int, hi: int, hashes: list[Hash]) -> Hash:
    """Consumes, from the front of ``hashes``, what ``_subtree_indexes(lo, hi)`` named."""
    count = 0
    while lo < hi:
        lo += _maxpow2(hi - lo + 1)
        count += 1
    parts = [hashes.pop(0) for _ in range(count)]
    h = parts[-1]
    for part in reversed(parts[:-1]):
        h = node_hash(part, h)
    return h


# --------------------------------------------------------------------------- tree hash


def root_indexes(size: int) -> list[int]:
    need: list[int] = []
    _subtree_indexes(0, size, need)
    return need


def root(size: int, hashes: Sequence[Hash]) -> Hash:
    if size == 0:
        return EMPTY_ROOT
    rest = list(hashes)
    h = _subtree_hash(0, size, rest)
    if rest:
        raise ValueError("more hashes than the tree needs")
    return h


# --------------------------------------------------------------------------- inclusion


def _leaf_proof_indexes(lo: int, hi: int, n: int, need: list[int]) -> None:
    if lo + 1 == hi:
        return
    k = _maxpow2(hi - lo)
    if n < lo + k:
        _leaf_proof_indexes(lo, lo + k, n, need)
        _subtree_indexes(lo + k, hi, need)
    else:
        _subtree_indexes(lo, lo + k, need)
        _leaf_proof_indexes(lo + k, hi, n, need)


def _leaf_proof(lo: int, hi: int, n: int, hashes: list[Hash]) -> list[Hash]:
    if lo + 1 == hi:
        return []
    k = _maxpow2(hi - lo)
    if n < lo + k:
        proof = _leaf_proof(lo, lo + k, n, hashes)
        sibling = _subtree_hash(lo + k, hi, hashes)
    else:
        sibling = _subtree_hash(lo, lo + k, hashes)
        proof = _leaf_proof(lo + k, hi, n, hashes)
    return [*proof, sibling]


def _check_index(index: int, size: int) -> None:
    if not 0 <= index < size:
        raise ValueError(f"index {index} is not in a tree of size {size}")


def inclusion_indexes(index: int, size: int) -> list[int]:
    _check_index(index, size)
    need: list[int] = []
    _leaf_proof_indexes(0, size, index, need)
    return need


def inclusion_proof(index: int, size: int, hashes: Sequence[Hash]) -> list[Hash]:
    """RFC 6962 §2.1.1 audit path of leaf ``index`` in the tree of ``size`` leaves, nearest
    sibling first; ``hashes`` are the stored hashes at ``inclusion_indexes``."""
    _check_index(index, size)
    return _leaf_proof(0, size, index, list(hashes))


def _run_leaf_proof(proof: list[Hash], lo: int, hi: int, n: int, leaf: Hash) -> Hash:
    if lo + 1 == hi:
        if proof:
            raise ProofError("the proof has more hashes than the path")
        return leaf
    if not proof:
        raise ProofError("the proof is shorter than the path")
    k = _maxpow2(hi - lo)
    if n < lo + k:
        return node_hash(_run_leaf_proof(proof[:-1], lo, lo + k, n, leaf), proof[-1])
    return node_hash(proof[-1], _run_leaf_proof(proof[:-1], lo + k, hi, n, leaf))


def verify_inclusion(proof: Sequence[Hash], index: int, size: int, leaf: bytes, expected_root: Hash) -> None:
    """Raises ProofError unless ``leaf`` is entry ``index`` of the tree with ``expected_root``."""
    _check_index(index, size)
    if _run_leaf_proof(list(proof), 0, size, index, leaf_hash(leaf)) != expected_root:
        raise ProofError(f"entry {index} is not in the tree of size {size} with this root")


# --------------------------------------------------------------------------- consistency


def _check_sizes(old: int, new: int) -> None:
    if not 1 <= old <= new:
        raise ValueError(f"no consistency proof from size {old} to size {new}")


def _tree_proof_indexes(lo: int, hi: int, n: int, need: list[int]) -> None:
    if n == hi:
        if lo != 0:
            _subtree_indexes(lo, hi, need)
        return
    k = _maxpow2(hi - lo)
    if n <= lo + k:
        _tree_proof_indexes(lo, lo + k, n, need)
        _subtree_indexes(lo + k, hi, need)
    else:
        _subtree_indexes(lo, lo + k, need)
        _tree_proof_indexes(lo + k, hi, n, need)


def _tree_proof(lo: int, hi: int, n: int, hashes: list[Hash]) -> list[Hash]:
    if n == hi:
        return [] if lo == 0 else [_subtree_hash(lo, hi, hashes)]
    k = _maxpow2(hi - lo)
    if n <= lo + k:
        proof = _tree_proof(lo, lo + k, n, hashes)
        other = _subtree_hash(lo + k, hi, hashes)
    else:
        other = _subtree_hash(lo, lo + k, hashes)
        proof = _tree_proof(lo + k, hi, n, hashes)
    return [*proof, other]


def consistency_indexes(old: int, new: int) -> list[int]:
    _check_sizes(old, new)
    need: list[int] = []
    _tree_proof_indexes(0, new, old, need)
    return need


def consistency_proof(old: int, new: int, hashes: Sequence[Hash]) -> list[Hash]:
    """RFC 6962 §2.1.2 proof that the tree of ``old`` leaves is a prefix of the tree of
    ``new``; ``hashes`` are the stored hashes at ``consistency_indexes``."""
    _check_sizes(old, new)
    return _tree_proof(0, new, old, list(hashes))


def _run_tree_proof(proof: list[Hash], lo: int, hi: int, n: int, old: Hash) -> tuple[Hash, Hash]:
    if n == hi:
        if lo == 0:
            if proof:
                raise ProofError("the proof has more hashes than needed")
            return old, old
        if len(proof) != 1:
            raise ProofError("the proof does not end in one subtree hash")
        return proof[0], proof[0]
    if not proof:
        raise ProofError("the proof is shorter than the path")
    k = _maxpow2(hi - lo)
    if n <= lo + k:
        was, now = _run_tree_proof(proof[:-1], lo, lo + k, n, old)
        return was, node_hash(now, proof[-1])
    was, now = _run_tree_proof(proof[:-1], lo + k, hi, n, old)
    return node_hash(proof[-1], was), node_hash(proof[-1], now)


def verify_consistency(proof: Sequence[Hash], old: int, old_root: Hash, new: int, new_root: Hash) -> None:
    """Raises ProofError unless the tree (old, old_root) is a prefix of (new, new_root)."""
    _check_sizes(old, new)
    was, now = _run_tree_proof(list(proof), 0, new, old, old_root)
    if was != old_root or now != new_root:
        raise ProofError(f"the tree of size {old} is not a prefix of the tree of size {new}")


# --------------------------------------------------------------------------- streaming


class Frontier:
    """The tree of the leaves appended so far, as its complete subtrees' roots (at most
    log2(n) + 1 hashes): a streaming pass over a log recomputes every stored hash and the root
    without holding the tree."""

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[Hash] = []  # roots of the complete subtrees, largest first

    def append(self, leaf: bytes) -> list[tuple[int, Hash]]:
        """Add leaf ``size``; the (stored index, hash) pairs ``append_hashes`` would store."""
        n = self.size
        m = _trailing_ones(n)
        siblings = self._stack[len(self._stack) - m :] if m else []
        stored = append_hashes(n, leaf, siblings)
        del self._stack[len(self._stack) - m :]
        self._stack.append(stored[-1][1])
        self.size += 1
        return stored

    def extend(self, leaves: Iterable[bytes]) -> list[Hash]:
        """Add ``leaves`` in order (``append`` of each, in one tight loop); the hashes to store,
        in storage order: appends fill the stored hash indexes without gaps, so the first is
        at ``stored_hash_index(0, size before)`` and each next one at the next index."""
        sha256, stack, n = hashlib.sha256, self._stack, self.size
        out: list[Hash] = []
        for leaf in leaves:
            h = sha256(b"\x00" + leaf).digest()
            out.append(h)
            completed = n
            while completed & 1:  # each subtree this leaf completes: its left sibling is on top
                h = sha256(b"\x01" + stack.pop() + h).digest()
                out.append(h)
                completed >>= 1
            stack.append(h)
            n += 1
        self.size = n
        return out

    def copy(self) -> Frontier:
        return Frontier.resume(self.size, self._stack)

    def root(self) -> Hash:
        if not self._stack:
            return EMPTY_ROOT
        h = self._stack[-1]
        for left in reversed(self._stack[:-1]):
            h = node_hash(left, h)
        return h

    @classmethod
    def resume(cls, size: int, hashes: Sequence[Hash]) -> Frontier:
        """The frontier of a stored tree of ``size`` leaves; ``hashes`` are the stored hashes at
        ``root_indexes(size)`` (its complete subtrees, largest first)."""
        frontier = cls()
        frontier.size = size
        frontier._stack = list(hashes)
        return frontier
