"""A command that cannot reach AWS says so at its first call, with what to check."""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner

from ecr_sweeper.adapters.aws import FIRST_CALL_CONFIG
from ecr_sweeper.cli import main


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on: connections are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("command", [["plan"], ["scan"], ["run"], ["report"], ["smoke"]])
def test_a_command_offline_fails_at_its_first_call_with_what_to_check(
    monkeypatch: pytest.MonkeyPatch, closed_port: int, command: list[str]
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    sent: list[str] = []

    def count(**kwargs: object) -> None:
        sent.append(str(kwargs.get("event_name")))

    import botocore.session

    original = botocore.session.Session.create_client

    def create_client(self: object, *args: object, **kwargs: object) -> object:
        client = original(self, *args, **kwargs)  # type: ignore[arg-type]
        client.meta.events.register("before-send", count)
        return client

    monkeypatch.setattr(botocore.session.Session, "create_client", create_client)
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 1
    assert "cannot reach AWS STS in eu-west-1" in result.output
    assert "HTTPS_PROXY" in result.output and "AWS_ENDPOINT_URL" in result.output
    # One request and one retry, to STS only: not a minute of retries elsewhere.
    assert sent == ["before-send.sts.GetCallerIdentity"] * 2


def test_the_first_call_has_short_timeouts_and_one_retry() -> None:
    assert FIRST_CALL_CONFIG.connect_timeout <= 5
    assert FIRST_CALL_CONFIG.retries == {"mode": "standard", "total_max_attempts": 2}
