"""What `sam deploy` ships is what runs: every function imports from its own artifact.

The development virtualenv has many packages the functions do not ship (tabulate was
one of them, and every deployed function failed at import). These tests look at the
`sam build` output, built for this machine's architecture so that the compiled packages
(pydantic_core, PyYAML) load for real:
- each function's handler is imported in an isolated interpreter (`python -I -S`) whose
  path holds only that function's artifact;
- every import under functions/ (at module level or inside a function) resolves to the
  standard library, to the package itself, or to a distribution in the artifact, and
  each third-party import is a distribution functions/requirements.txt names itself
  (not one that happens to arrive as another's dependency).
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sweeper_emulator.artifact_mode import interpreter_for
from sweeper_emulator.build import build, host_architecture
from sweeper_emulator.template import load_template

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "functions"
REQUIREMENTS = SOURCES / "requirements.txt"
PACKAGE = "ecr_sweeper"


@pytest.fixture(scope="module")
def artifact() -> Path:
    return build()


def _functions(build_dir: Path) -> dict[str, dict[str, str]]:
    template = load_template(build_dir / "template.yaml")
    runtime = template.get("Globals", {}).get("Function", {}).get("Runtime", "python3.13")
    return {
        logical: {
            "handler": spec["Properties"]["Handler"],
            "code": spec["Properties"].get("CodeUri", ""),
            "runtime": spec["Properties"].get("Runtime", runtime),
        }
        for logical, spec in template["Resources"].items()
        if spec["Type"] == "AWS::Serverless::Function"
    }


FUNCTIONS = sorted(
    logical
    for logical, spec in load_template(ROOT / "template.yaml")["Resources"].items()
    if spec["Type"] == "AWS::Serverless::Function"
)


def import_in_isolation(code_dir: Path, handler: str, runtime: str) -> subprocess.CompletedProcess:
    """Import `module.function` with nothing but `code_dir` and the standard library."""
    module, function = handler.rsplit(".", 1)
    probe = (
        "import importlib, sys\n"
        f"sys.path.insert(0, {str(code_dir)!r})\n"
        f"handler = getattr(importlib.import_module({module!r}), {function!r})\n"
        "assert callable(handler)\n"
        "outside = [p for p in sys.path if 'site-packages' in p]\n"
        "assert not outside, outside\n"
    )
    return subprocess.run(
        [interpreter_for(runtime), "-I", "-S", "-B", "-c", probe],
        capture_output=True,
        text=True,
        cwd=code_dir,
        env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"},
    )


# --- the imports the code makes ------------------------------------------------------


def third_party_imports(sources: Path) -> dict[str, set[str]]:
    """Top-level module name -> the files importing it, for every absolute import that
    is neither the standard library nor the package itself, wherever it is written."""
    found: dict[str, set[str]] = {}
    for path in sorted(sources.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in (PACKAGE, "__future__"):
                    continue
                found.setdefault(top, set()).add(str(path.relative_to(sources)))
    return found


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def distributions_in(code_dir: Path) -> dict[str, str]:
    """Top-level module name -> the distribution that installed it in the artifact."""
    provides: dict[str, str] = {}
    for record in code_dir.glob("*.dist-info/RECORD"):
        metadata = (record.parent / "METADATA").read_text(errors="replace")
        name = re.search(r"^Name: (.+)$", metadata, re.MULTILINE)
        assert name is not None, record
        for line in record.read_text().splitlines():
            top = line.split(",", 1)[0].split("/", 1)[0]
            if top.endswith((".dist-info", ".data")) or top in ("..", "__pycache__", "bin"):
                continue
            provides[top.removesuffix(".py")] = _normalize(name.group(1).strip())
    return provides


def requirement_names(text: str) -> set[str]:
    names = set()
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(_normalize(re.split(r"[=<>!~\[; ]", line, maxsplit=1)[0]))
    return names


def unresolved_imports(
    sources: Path, code_dir: Path, requirements: str
) -> dict[str, tuple[str, set[str]]]:
    """Each third-party import that the artifact lacks, or whose distribution the
    requirements do not name: module -> (what is wrong, the files importing it)."""
    provides = distributions_in(code_dir)
    required = requirement_names(requirements)
    problems = {}
    for module, files in third_party_imports(sources).items():
        if module not in provides:
            problems[module] = ("not in the artifact", files)
        elif provides[module] not in required:
            problems[module] = (f"{provides[module]} is not in requirements.txt", files)
    return problems


# --- the tests -----------------------------------------------------------------------


def test_the_template_builds_for_this_machine(artifact: Path):
    built = load_template(artifact / "template.yaml")
    assert built["Globals"]["Function"]["Architectures"] == [{"Ref": "Architecture"}]
    compiled = list((artifact / FUNCTIONS[0]).glob("pydantic_core/_pydantic_core*.so"))
    machine = {"x86_64": "x86_64", "arm64": "aarch64"}[host_architecture()]
    assert compiled and machine in compiled[0].name, compiled


@pytest.mark.parametrize("logical", FUNCTIONS)
def test_each_handler_imports_from_its_artifact_alone(artifact: Path, logical: str):
    function = _functions(artifact)[logical]
    code_dir = artifact / function["code"]
    done = import_in_isolation(code_dir, function["handler"], function["runtime"])
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize("logical", FUNCTIONS)
def test_every_import_resolves_in_each_artifact(artifact: Path, logical: str):
    code_dir = artifact / _functions(artifact)[logical]["code"]
    assert third_party_imports(SOURCES), "found no imports: the walk is broken"
    assert unresolved_imports(SOURCES, code_dir, REQUIREMENTS.read_text()) == {}


def test_imports_inside_functions_are_found(tmp_path: Path):
    (tmp_path / "lazy.py").write_text("def later():\n    import tabulate\n    return tabulate\n")
    assert third_party_imports(tmp_path) == {"tabulate": {"lazy.py"}}


def _imported_requirements(artifact: Path) -> list[str]:
    provides = distributions_in(artifact / FUNCTIONS[0])
    imported = {provides[m] for m in third_party_imports(SOURCES) if m in provides}
    return sorted(imported & requirement_names(REQUIREMENTS.read_text()))


def test_removing_any_imported_requirement_fails_the_check(artifact: Path, tmp_path: Path):
    """A copy of requirements.txt without each entry the code imports, in turn."""
    imported = _imported_requirements(artifact)
    assert {"boto3", "pydantic", "pyyaml", "tabulate", "click"} <= set(imported), imported
    code_dir = artifact / FUNCTIONS[0]
    lines = REQUIREMENTS.read_text().splitlines()
    for entry in imported:
        kept = [line for line in lines if requirement_names(line) != {entry}]
        assert len(kept) == len(lines) - 1, entry
        copy = tmp_path / f"requirements-without-{entry}.txt"
        copy.write_text("\n".join(kept) + "\n")
        problems = unresolved_imports(SOURCES, code_dir, copy.read_text())
        assert any(entry in what for what, _files in problems.values()), (entry, problems)


def test_a_build_without_tabulate_fails_to_import(tmp_path: Path):
    """The defect this guard exists for, on a real `sam build` of a copy of the project
    whose requirements lack tabulate: the handler cannot be imported."""
    for name in ("template.yaml", "functions", "config", "statemachine"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / name)
    requirements = tmp_path / "functions" / "requirements.txt"
    requirements.write_text(
        "".join(
            line + "\n"
            for line in requirements.read_text().splitlines()
            if not line.startswith("tabulate")
        )
    )
    built = build(root=tmp_path, build_dir=Path("build"), only="CapsFunction")
    function = _functions(built)["CapsFunction"]
    done = import_in_isolation(built / function["code"], function["handler"], function["runtime"])
    assert done.returncode != 0
    assert "No module named 'tabulate'" in done.stderr
    problems = unresolved_imports(
        tmp_path / "functions", built / function["code"], requirements.read_text()
    )
    assert problems["tabulate"][0] == "not in the artifact", problems
