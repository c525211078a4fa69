"""The Serverless Application Repository listing (template.yaml's
AWS::ServerlessRepo::Application metadata) and docs/publishing.md: within SAR's limits,
one version everywhere, and the page's commands and lists in step with the template."""

from __future__ import annotations

import os
import re
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from test_template import ROOT, translated

import ecr_sweeper
from sweeper_emulator.template import load_template

PAGE = ROOT / "docs" / "publishing.md"
# SAR's limits, from its API reference (CreateApplication).
NAME = re.compile(r"[a-zA-Z0-9\-]{1,140}")
AUTHOR = re.compile(r"[a-z0-9](([a-z0-9]|-(?!-))*[a-z0-9])?")
LABEL = re.compile(r"[a-zA-Z0-9+\-_:/@]{1,127}")
# The resource types whose creation a SAR user acknowledges, by capability.
CAPABILITY_TYPES = {
    "CAPABILITY_IAM": {
        "AWS::IAM::Group",
        "AWS::IAM::InstanceProfile",
        "AWS::IAM::Policy",
        "AWS::IAM::Role",
    },
    "CAPABILITY_RESOURCE_POLICY": {
        "AWS::Lambda::LayerVersionPermission",
        "AWS::Lambda::Permission",
        "AWS::Events::EventBusPolicy",
        "AWS::IAM::Policy",
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        "AWS::S3::BucketPolicy",
        "AWS::SQS::QueuePolicy",
        "AWS::SNS::TopicPolicy",
    },
}


@pytest.fixture(scope="module")
def listing() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")["Metadata"]["AWS::ServerlessRepo::Application"]


def test_the_listing_is_within_sars_limits(listing: dict[str, Any]) -> None:
    assert NAME.fullmatch(listing["Name"])
    assert 1 <= len(listing["Description"]) <= 256
    assert AUTHOR.fullmatch(listing["Author"])
    assert 1 <= len(listing["Labels"]) <= 10
    assert all(LABEL.fullmatch(label) for label in listing["Labels"])
    # SAR reads the metadata as written: no intrinsic function anywhere in it.
    assert all(isinstance(value, str | list) for value in listing.values())
    assert not any(isinstance(v, dict) for v in listing.values())


def test_the_listing_version_is_the_packages_and_the_changelogs(listing: dict[str, Any]) -> None:
    assert listing["SemanticVersion"] == ecr_sweeper.__version__
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert re.search(rf"^## {re.escape(ecr_sweeper.__version__)}\b", changelog, re.M)


def test_the_license_and_readme_are_the_repositorys(listing: dict[str, Any]) -> None:
    assert listing["SpdxLicenseId"] == "MIT"
    assert (ROOT / listing["LicenseUrl"]).read_text().startswith("MIT License")
    assert (ROOT / listing["ReadmeUrl"]).read_text().startswith("# ecr-sweeper")
    for key in ("HomePageUrl", "SourceCodeUrl"):  # optional until the repository is public
        assert key not in listing or listing[key].startswith("https://")


def _types() -> set[str]:
    return {resource["Type"] for resource in translated()["Resources"].values()}


def test_the_page_lists_the_resource_types_the_template_creates() -> None:
    section = PAGE.read_text().split("creates these types", 1)[1].split("\n\n", 1)[0]
    assert set(re.findall(r"`(AWS::\w+::\w+)`", section)) == _types()


def test_the_page_acknowledges_the_capabilities_the_template_needs() -> None:
    needed = {cap for cap, types in CAPABILITY_TYPES.items() if types & _types()}
    (line,) = [line for line in PAGE.read_text().splitlines() if "--capabilities" in line]
    written = set(line.split("--capabilities", 1)[1].split("\\")[0].split())
    assert written == needed


@cache
def _sam_help(command: str) -> str:
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "sam"), command, "--help"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
        timeout=120,
    )
    return result.stdout


def _sam_commands() -> list[str]:
    """Each `sam ...` command of the page's shell blocks, continuation lines joined."""
    blocks = re.findall(r"```sh\n(.*?)```", PAGE.read_text(), re.S)
    text = "\n".join(blocks).replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip().startswith("sam ")]


@pytest.mark.parametrize("command", _sam_commands())
def test_each_sam_command_of_the_page_uses_options_sam_has(command: str) -> None:
    subcommand = command.split()[1]
    help_text = _sam_help(subcommand)
    for option in re.findall(r"(?<!\S)(--[a-z0-9-]+)", command):
        assert re.search(rf"(^|[\s,]){re.escape(option)}\b", help_text, re.M), (option, command)


def test_the_page_publishes_what_it_packaged() -> None:
    package, publish = (c for c in _sam_commands() if c.split()[1] in ("package", "publish"))
    output = re.search(r"--output-template-file (\S+)", package)
    assert output and f"--template {output.group(1)}" in publish
    assert Path(".aws-sam/build/template.yaml").as_posix() in package
