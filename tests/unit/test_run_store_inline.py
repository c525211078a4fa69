"""Per-repository data that travels inline or as a file (run_store.py): a small one is
not written, a large one is; either is used only with the SHA-256 its writer returned."""

from __future__ import annotations

import pytest

from ecr_sweeper.core.images import RepositoryImages
from ecr_sweeper.errors import RunDataMismatch
from ecr_sweeper.local import MemoryS3
from ecr_sweeper.run_store import RunStore, sha256


def _store() -> tuple[RunStore, MemoryS3]:
    s3 = MemoryS3("bucket")
    return RunStore("bucket", "runs/x", s3), s3


def test_small_data_travels_inline_and_large_data_is_a_sealed_file() -> None:
    store, s3 = _store()
    small = RepositoryImages(repository="app", images=[])
    digest, inline = store.put_model_or_inline("images/app.json", small, 1024)
    assert inline == small.model_dump_json() and digest == sha256(inline)
    assert s3.objects == {}  # nothing written
    assert store.get_model_or_inline("images/app.json", RepositoryImages, digest, inline) == small

    digest, inline = store.put_model_or_inline("images/app.json", small, 10)
    assert inline is None and list(s3.objects) == [("bucket", "runs/x/images/app.json")]
    assert store.get_model_or_inline("images/app.json", RepositoryImages, digest, None) == small


@pytest.mark.parametrize("carried", ["", "0" * 64])
def test_inline_data_with_another_hash_is_refused(carried: str) -> None:
    store, _ = _store()
    text = RepositoryImages(repository="app", images=[]).model_dump_json()
    with pytest.raises(RunDataMismatch):
        store.get_model_or_inline("plans/app.json", RepositoryImages, carried, text)
