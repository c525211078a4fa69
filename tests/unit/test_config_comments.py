"""config/ecrm.yaml's comments say what the tool does: a section left out is scanned in
full, with a warning, and `[]` turns that source off."""

from __future__ import annotations

from pathlib import Path

from ecr_sweeper.core.config import load_config

ROOT = Path(__file__).resolve().parents[2]
COMMENT = "# A section left out is scanned in full (a warning says so); `[]` turns that source off."


def test_the_bundled_config_says_a_missing_section_is_scanned_in_full() -> None:
    text = (ROOT / "config" / "ecrm.yaml").read_text()
    assert COMMENT in text.splitlines()
    assert "not scanned" not in text


def test_a_missing_section_is_scanned_with_a_warning_and_an_empty_one_is_off() -> None:
    missing = load_config('repositories: [{name_pattern: "app-*", expires: 30d}]\n')
    assert missing.clusters is None  # None: every cluster is scanned
    assert any("clusters: section missing" in w and "is scanned" in w for w in missing.warnings)
    off = load_config('clusters: []\nrepositories: [{name_pattern: "app-*", expires: 30d}]\n')
    assert off.clusters == []
    assert not any(w.startswith("clusters") for w in off.warnings)
