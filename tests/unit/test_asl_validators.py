"""The state machine definition as AWS reads it, checked by two validators written by others.

statemachine/sweep.asl.json, its DefinitionSubstitutions filled in for every allowed value
of each parameter that reaches them (the `substituted_definitions` fixture), goes through
tools/validate_asl.js: the npm packages asl-validator and amazon-states-language-service
(the validator behind the AWS Toolkit for VS Code), pinned in package.json and
package-lock.json and installed by `make` (npm ci). Both must report no error. The
language service turns every schema and ASL problem into an error; a warning it still
reports (a JSON syntax detail) fails too unless accepted below with its reason.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "validate_asl.js"
VALIDATORS = ("asl-validator", "amazon-states-language-service")
INSTALL = "run `make install` (npm ci), or `make test`, which runs it"
# Warnings of the language service accepted after review: message -> reason. None today.
ACCEPTED_WARNINGS: dict[str, str] = {}


def _package_json() -> dict[str, Any]:
    return json.loads((ROOT / "package.json").read_text())


@pytest.fixture(scope="module")
def node() -> str:
    """node, with the locked validators installed: missing ones fail, never skip."""
    executable = shutil.which("node")
    if executable is None:
        pytest.fail(f"node is not on PATH: the ASL validators need it ({INSTALL})")
    for name, version in _package_json()["devDependencies"].items():
        installed = ROOT / "node_modules" / name / "package.json"
        if not installed.exists():
            pytest.fail(f"{name} is not installed in node_modules/: {INSTALL}")
        found = json.loads(installed.read_text())["version"]
        if found != version:
            pytest.fail(f"node_modules/ has {name} {found}, package.json pins {version}: {INSTALL}")
    return executable


def _validate(node: str, files: list[Path]) -> tuple[int, dict[str, dict[str, Any]]]:
    """Runs tools/validate_asl.js on the files: its exit status and each file's report."""
    run = subprocess.run(
        [node, str(SCRIPT), "--json", *map(str, files)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert run.returncode in (0, 1), f"validate_asl.js failed ({run.returncode}): {run.stderr}"
    reports = {Path(r["file"]).name: r for r in json.loads(run.stdout)}
    assert set(reports) == {f.name for f in files}
    return run.returncode, reports


def _write(directory: Path, definitions: dict[str, str]) -> list[Path]:
    files = []
    for label, text in definitions.items():
        path = directory / f"{label}.asl.json"
        path.write_text(text)
        files.append(path)
    return files


# ---------------------------------------------------------------- pins and coverage


def test_the_validators_are_pinned_to_exact_versions_and_locked() -> None:
    pins = _package_json()["devDependencies"]
    assert set(VALIDATORS) <= set(pins)
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"][""]["devDependencies"] == pins, "package-lock.json is stale: npm i"
    for name, version in pins.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name}: {version} is not exact"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version, name


def test_every_allowed_child_execution_type_is_validated(
    substituted_definitions: dict[str, str],
) -> None:
    # ChildExecutionType reaches the definition: the fixture must find it by itself.
    assert {"ChildExecutionType=STANDARD", "ChildExecutionType=EXPRESS"} <= set(
        substituted_definitions
    )
    for label, text in substituted_definitions.items():
        assert "${" not in text, label
        if label.startswith("ChildExecutionType="):
            maps = [s for s in json.loads(text)["States"].values() if s["Type"] == "Map"]
            types = {m["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] for m in maps}
            assert types == {label.split("=", 1)[1]}, label


# ---------------------------------------------------------------- the real definition


def test_both_validators_accept_every_substituted_definition(
    node: str, substituted_definitions: dict[str, str], tmp_path: Path
) -> None:
    status, reports = _validate(node, _write(tmp_path, substituted_definitions))
    problems = []
    for name, report in sorted(reports.items()):
        service = report["amazon-states-language-service"]
        problems += [f"{name}: asl-validator: {e}" for e in report["asl-validator"]["errors"]]
        problems += [f"{name}: language service: {e}" for e in service["errors"]]
        for warning in service["warnings"]:
            message = warning.split(" ", 1)[1]  # without its line:column
            if message not in ACCEPTED_WARNINGS:
                problems.append(f"{name}: language service warning: {warning}")
        for information in service["information"]:
            warnings.warn(f"{name}: language service: {information}", stacklevel=1)
    assert problems == [], "\n".join(problems)
    assert status == 0


# ---------------------------------------------------------------- the validators catch defects


def _tolerated_failure_as_float(definition: dict[str, Any]) -> None:
    # What the definition had: AWS's language service expects an integer.
    definition["States"]["PlanRepositories"]["ToleratedFailurePercentage"] = 100.0


def _next_to_nowhere(definition: dict[str, Any]) -> None:
    definition["States"]["Summarize"]["Next"] = "Nowhere"


def _unknown_field(definition: dict[str, Any]) -> None:
    definition["States"]["Summarize"]["ResultPaths"] = "$.summary"


def _unknown_execution_type(definition: dict[str, Any]) -> None:
    processor = definition["States"]["SweepRepositories"]["ItemProcessor"]
    processor["ProcessorConfig"]["ExecutionType"] = "STANDARD_EXPRESS"


def _resource_not_an_arn(definition: dict[str, Any]) -> None:
    definition["States"]["ScanInUse"]["Resource"] = "lambda:invoke"


def _result_path_not_a_path(definition: dict[str, Any]) -> None:
    definition["States"]["Summarize"]["ResultPath"] = "summary"


# Each breakage, and the validators that must report it (the others may too).
BREAKAGES: list[tuple[Callable[[dict[str, Any]], None], set[str]]] = [
    (_tolerated_failure_as_float, {"amazon-states-language-service"}),
    (_next_to_nowhere, set(VALIDATORS)),
    (_unknown_field, set(VALIDATORS)),
    (_unknown_execution_type, set(VALIDATORS)),
    (_resource_not_an_arn, {"asl-validator"}),
    (_result_path_not_a_path, {"asl-validator"}),
]


@pytest.fixture(scope="module")
def broken_reports(
    node: str, substituted_definitions: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> tuple[int, dict[str, dict[str, Any]]]:
    """One run of the validators on a broken copy of the definition per breakage."""
    definition = json.loads(substituted_definitions["ChildExecutionType=STANDARD"])
    broken = {}
    for breakage, _ in BREAKAGES:
        copied = copy.deepcopy(definition)
        breakage(copied)
        broken[breakage.__name__] = json.dumps(copied, indent=2)
    return _validate(node, _write(tmp_path_factory.mktemp("broken"), broken))


@pytest.mark.parametrize(
    ("breakage", "reported_by"), BREAKAGES, ids=[b.__name__.strip("_") for b, _ in BREAKAGES]
)
def test_the_validators_catch_a_broken_definition(
    broken_reports: tuple[int, dict[str, dict[str, Any]]],
    breakage: Callable[[dict[str, Any]], None],
    reported_by: set[str],
) -> None:
    status, reports = broken_reports
    assert status == 1
    report = reports[f"{breakage.__name__}.asl.json"]
    for validator in reported_by:
        assert report[validator]["errors"], f"{validator} did not report {breakage.__name__}"
