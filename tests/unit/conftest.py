"""Fixtures for the unit tests that call moto directly."""

from __future__ import annotations

from collections.abc import Callable

import pytest


@pytest.fixture
def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """fake_credentials(region): credentials and a region that can only reach moto, never
    a real account (and no MOTO_ACCOUNT_ID: the account comes from the access key, as in
    the emulator)."""

    def use(region: str) -> None:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.setenv("AWS_DEFAULT_REGION", region)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        monkeypatch.delenv("MOTO_ACCOUNT_ID", raising=False)

    return use
