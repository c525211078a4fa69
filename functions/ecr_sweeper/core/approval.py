"""Which plans CheckCaps approved, checkable one repository at a time.

CheckCaps approves a list of (repository, plan SHA-256) and returns the root of a
Merkle tree over it, which the state machine carries to every deleter in its payload
(nothing in S3 can change it). Each sweep item carries its position in the list and
the sibling hashes up to the root: a deleter checks its own approval from its item
alone, without reading the whole list (which a sweep of 5,000 repositories would read
5,000 times). An item that the list did not hold, or holds with another plan, cannot
lead to the root without a SHA-256 collision.

Leaves and inner nodes hash with different prefixes, so that an inner node cannot pass
for a leaf; an odd node out is carried up unchanged (never paired with a copy of
itself), its proof step left empty.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

EMPTY_ROOT = hashlib.sha256(b"").hexdigest()


def leaf(repository: str, plan_sha256: str) -> str:
    return hashlib.sha256(b"\x00" + json.dumps([repository, plan_sha256]).encode()).hexdigest()


def _node(left: str, right: str) -> str:
    return hashlib.sha256(b"\x01" + bytes.fromhex(left) + bytes.fromhex(right)).hexdigest()


def tree(leaves: Sequence[str]) -> tuple[str, list[list[str]]]:
    """The root over `leaves`, in order, and each leaf's proof (a sibling hash per
    level, "" where the node had none)."""
    if not leaves:
        return EMPTY_ROOT, []
    proofs: list[list[str]] = [[] for _ in leaves]
    # Which leaves each node of the current level covers.
    level, covers = list(leaves), [[i] for i in range(len(leaves))]
    while len(level) > 1:
        next_level, next_covers = [], []
        for i in range(0, len(level), 2):
            if i + 1 == len(level):  # odd node out: carried up as it is
                for j in covers[i]:
                    proofs[j].append("")
                next_level.append(level[i])
                next_covers.append(covers[i])
                continue
            for j in covers[i]:
                proofs[j].append(level[i + 1])
            for j in covers[i + 1]:
                proofs[j].append(level[i])
            next_level.append(_node(level[i], level[i + 1]))
            next_covers.append(covers[i] + covers[i + 1])
        level, covers = next_level, next_covers
    return level[0], proofs


def proves(leaf_hash: str, index: int, proof: Sequence[str], root: str) -> bool:
    """Whether `leaf_hash`, at `index`, with `proof`, leads to `root`."""
    if index < 0 or index >= 2 ** len(proof):
        return False
    current = leaf_hash
    try:
        for sibling in proof:
            if sibling:
                current = _node(current, sibling) if index % 2 == 0 else _node(sibling, current)
            index //= 2
    except ValueError:  # a sibling that is not a hash
        return False
    return current == root
