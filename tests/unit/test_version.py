"""One version, written once in functions/ecr_sweeper/__init__.py: pyproject.toml reads it
(setuptools dynamic), `ecr-sweeper --version` prints it, and the Lambda artifact, which
holds the package but not its distribution metadata, has it too."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from click.testing import CliRunner
from setuptools.config.pyprojecttoml import read_configuration

import ecr_sweeper
from ecr_sweeper.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_the_version_is_written_once_in_the_package() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", ecr_sweeper.__version__)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "ecr_sweeper.__version__"
    }


def test_setuptools_builds_the_package_with_that_version() -> None:
    configuration = read_configuration(ROOT / "pyproject.toml", expand=True)
    assert configuration["project"]["version"] == ecr_sweeper.__version__


def test_ecr_sweeper_version_prints_it() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"ecr-sweeper, version {ecr_sweeper.__version__}\n"


def test_the_changelog_names_the_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## {ecr_sweeper.__version__}" in changelog
