"""Helpers for tests that run the real state machine on the local emulator."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sweeper_emulator.build import build
from sweeper_emulator.emulator import Emulator
from sweeper_emulator.inventory import inventory_from_dict

NOW = datetime(2026, 11, 27)
ACCOUNT, REGION = "123456789012", "ap-northeast-1"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
# A member account the scan reads through its scanner role (config `accounts`).
MEMBER, MEMBER_REGION = "210987654321", "eu-west-1"
# Registries whose images are not this one's, though the repository name is the same: a
# reference to them keeps nothing here.
OTHER_REGION_REGISTRY = f"{ACCOUNT}.dkr.ecr.eu-central-1.amazonaws.com"
MEMBER_REGISTRY = f"{MEMBER}.dkr.ecr.{MEMBER_REGION}.amazonaws.com"

BASIC_CONFIG = """
# Most scenarios run nothing: let a scan that finds nothing in use through.
safety: {allow_nothing_in_use: true}
clusters: [{name: prod}]
task_definitions: [{name_pattern: "*", keep_count: 1}]
lambda_functions: [{name_pattern: "*", keep_count: 1}]
repositories:
  - name_pattern: "*"
    expires: 30days
    keep_count: 0
    keep_tag_patterns: []
"""


def digest(label: str) -> str:
    return "sha256:" + hashlib.sha256(label.encode()).hexdigest()


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def image(
    label: str,
    *,
    tags: list[str] | None = None,
    age_days: float = 60,
    size: int = 1000,
    **extra: Any,
) -> dict[str, Any]:
    """An image pushed age_days before NOW (expired under a 30-day rule by default)."""
    return {
        "digest": digest(label),
        "tags": tags or [],
        "pushed_at": stamp(NOW - timedelta(days=age_days)),
        "size_bytes": size,
        **extra,
    }


def uri(repository: str, reference: str = "") -> str:
    return f"{REGISTRY}/{repository}{reference}"


def inventory(repositories: dict[str, list[dict[str, Any]]], **sections: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "account_id": ACCOUNT,
        "region": REGION,
        "now": stamp(NOW),
        "repositories": [{"name": name, "images": images} for name, images in repositories.items()],
    }
    data.update(sections)
    return data


def scanner_role(account_id: str = MEMBER) -> str:
    """The role the scan assumes in a member account (scanner-role.yaml's name)."""
    return f"arn:aws:iam::{account_id}:role/ecr-sweeper-scanner"


def member(
    account_id: str = MEMBER, region: str = MEMBER_REGION, **sections: Any
) -> dict[str, Any]:
    """One place of `inventory(accounts=[...])`: what runs in a member account's region
    (`ecs`, `eks`, `lambda`, ...)."""
    return {"account_id": account_id, "region": region, **sections}


RunFn = Callable[..., dict[str, Any]]


@pytest.fixture(scope="session")
def artifact() -> Path:
    """The `sam build` output for this machine, for the artifact mode (built once)."""
    return build()


@pytest.fixture(params=["in-process", "artifact"])
def mode(request: pytest.FixtureRequest) -> Path | None:
    """Run a test in both modes: the handlers in this process, and each function from its
    `sam build` artifact in a process of its own. The value is `run_workflow`'s from_build."""
    if request.param == "in-process":
        return None
    return request.getfixturevalue("artifact")


@pytest.fixture
def run_workflow(tmp_path: Path) -> RunFn:
    """run_workflow(inventory_dict, config=YAML text, input=JSON text or None,
    from_build=a sam build folder for the artifact mode) -> result."""

    def _run(
        data: dict[str, Any],
        *,
        config: str = BASIC_CONFIG,
        execution_input: str | None = '{"dry_run": false}',
        parameters: dict[str, str] | None = None,
        from_build: Path | None = None,
    ) -> dict[str, Any]:
        config_file = tmp_path / "ecrm.yaml"
        config_file.write_text(config)
        with Emulator(
            inventory_from_dict(data),
            config_file=config_file,
            parameters=parameters,
            from_build=from_build,
        ) as emulator:
            result = emulator.run(execution_input)
            name = result["execution_arn"].rsplit(":", 1)[-1]
            result["report"] = _optional_json(emulator, name, "report.json")
            result["report_md"] = _optional_text(emulator, name, "report.md")
            result["in_use"] = _optional_json(emulator, name, "in-use.json")
            result["results"] = emulator.repository_results(
                result["execution_arn"], [repo["name"] for repo in data["repositories"]]
            )
        return result

    return _run


def _optional_text(emulator: Emulator, execution: str, name: str) -> str | None:
    try:
        return emulator.read_run_file(execution, name)
    except Exception:  # the run may have failed before writing it
        return None


def _optional_json(emulator: Emulator, execution: str, name: str) -> Any:
    text = _optional_text(emulator, execution, name)
    return None if text is None else json.loads(text)


def deleted(result: dict[str, Any], repository: str) -> set[str]:
    return set(result["repositories"][repository]["deleted"])


def remaining(result: dict[str, Any], repository: str) -> set[str]:
    return set(result["repositories"][repository]["remaining"])


# The longest tests, started first. pytest-xdist hands tests out in collection order, and
# these come last alphabetically: started at the end they ran on one worker after the
# other had finished everything else (8 minutes of `make test` on two workers).
LONGEST_FIRST = (
    "test_single_fault_sweep.py",
    "test_in_use_places_properties.py",
    "test_payload_size.py",
    "test_accounts_properties.py",
    "test_graph_properties.py",
    "test_fault_properties.py",
    "test_deep_repository.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Move the longest workflow tests to the front (a stable sort: their own order and
    everyone else's stay as collected)."""

    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)
