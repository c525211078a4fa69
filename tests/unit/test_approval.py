"""The deleter's proof that CheckCaps approved its plan (core/approval.py): every item of
the approved list proves its own place, and nothing else proves anything."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ecr_sweeper.core.approval import EMPTY_ROOT, leaf, proves, tree

HASH = st.text("0123456789abcdef", min_size=64, max_size=64)
ITEMS = st.lists(st.tuples(st.text(min_size=1, max_size=20), HASH), max_size=40)


@given(ITEMS)
def test_every_approved_item_proves_its_place(items: list[tuple[str, str]]) -> None:
    root, proofs = tree([leaf(r, p) for r, p in items])
    assert len(proofs) == len(items)
    for index, ((repository, plan), proof) in enumerate(zip(items, proofs, strict=True)):
        assert proves(leaf(repository, plan), index, proof, root)
    if not items:
        assert root == EMPTY_ROOT


@given(ITEMS, st.text(min_size=1, max_size=20), HASH, st.data())
def test_an_item_the_list_does_not_hold_proves_nothing(
    items: list[tuple[str, str]], repository: str, plan: str, data: st.DataObject
) -> None:
    """Another plan for a listed repository, or a repository the list does not name, at
    any place and with any listed item's proof (or a forged one), is refused."""
    if (repository, plan) in items:
        return
    root, proofs = tree([leaf(r, p) for r, p in items])
    forged = data.draw(st.lists(st.one_of(HASH, st.just("")), max_size=8))
    for index, proof in [*enumerate(proofs), (0, forged), (len(items), forged)]:
        assert not proves(leaf(repository, plan), index, proof, root)


@given(ITEMS.filter(lambda items: len(items) >= 2), st.data())
def test_a_proof_holds_at_its_own_place_only(
    items: list[tuple[str, str]], data: st.DataObject
) -> None:
    root, proofs = tree([leaf(r, p) for r, p in items])
    index = data.draw(st.integers(0, len(items) - 1))
    other = data.draw(st.integers(0, len(items) - 1).filter(lambda i: i != index))
    repository, plan = items[index]
    if items[other] == items[index]:
        return  # the same item twice: either place is right
    assert not proves(leaf(repository, plan), other, proofs[index], root)
    # An inner node never passes for a leaf, nor a proof that is not hashes.
    assert not proves(leaf(repository, plan), index, ["zz" * 32] * len(proofs[index]), root)


def test_a_leaf_binds_the_repository_to_its_plan() -> None:
    # The name and the hash cannot trade characters: "a" + "bc" is not "ab" + "c".
    assert leaf("a", "bc") != leaf("ab", "c")
