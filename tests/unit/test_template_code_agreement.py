"""Template and code agree: what `sam deploy` configures is what the handlers read.

Read statically, without importing the code (`ast`), for every function of template.yaml:

- every environment variable its handler reads, itself or in any module of the package it
  imports (directly or not), is set for that function (Globals plus its own Environment),
  unless Lambda itself sets it;
- its `Handler` names a function defined in a module of its CodeUri;
- a path it reads from a layer (`/opt/...`, such as CONFIG_FILE) is a file of a layer the
  function has: `/opt/<ConfigFile default>` is in ConfigLayer's ContentUri.

Each check is also run on a deliberately wrong copy of the template, and on a small package
written for the purpose, to show that it fails when it should.
"""

from __future__ import annotations

import ast
import fnmatch
import functools
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
PACKAGE = "ecr_sweeper"
# The handlers' `env("NAME")` helper: a call of it is a read of NAME.
ENV_HELPER = ("ecr_sweeper.handlers.common", "env")
# Variables Lambda sets in every function's environment (its reserved variables), which the
# template cannot set. POWERTOOLS_* are not here on purpose: Powertools reads them itself
# with defaults, but a read in our code means we depend on a value, so the template sets it.
SET_BY_LAMBDA = frozenset(
    {
        "AWS_REGION",  # the function's region
        "AWS_DEFAULT_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "LAMBDA_TASK_ROOT",
        "_X_AMZN_TRACE_ID",
    }
)
LAYER_MOUNT = "/opt/"  # where Lambda unpacks a function's layers


def load_template(path: Path) -> dict[str, Any]:
    return dict(yaml_parse(path.read_text()))


# ---------------------------------------------------------------- reading the code


@dataclass(frozen=True)
class EnvRead:
    name: str | None  # None: the name is not a literal, so it cannot be checked
    where: str  # path:line


@functools.cache
def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def module_file(code_root: Path, module: str) -> Path | None:
    base = code_root / module.replace(".", "/")
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _with_parents(module: str) -> set[str]:
    """Importing a.b.c runs a and a.b first."""
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


def _package(code_root: Path, module: str) -> str:
    """The package a module's relative imports start from."""
    path = module_file(code_root, module)
    return module if path is not None and path.name == "__init__.py" else module.rpartition(".")[0]


def _imported_from(node: ast.ImportFrom, package: str) -> str:
    """The module of `from X import ...`, a relative X resolved against `package`."""
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = ".".join(parts[: len(parts) - node.level + 1])
    return f"{base}.{node.module}" if node.module else base


@functools.cache
def imported_modules(code_root: Path, module: str) -> frozenset[str]:
    """The package's modules that `module` imports, at module level or inside functions."""
    path = module_file(code_root, module)
    assert path is not None, module
    found: set[str] = set()
    for node in ast.walk(parse(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found |= _with_parents(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = _imported_from(node, _package(code_root, module))
            found |= _with_parents(base)
            # `from a import b` imports the module a.b when there is one.
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return frozenset(
        m
        for m in found
        if (m == PACKAGE or m.startswith(PACKAGE + ".")) and module_file(code_root, m)
    )


def import_closure(code_root: Path, module: str) -> set[str]:
    """Every module of the package that loading `module` loads."""
    seen: set[str] = set()
    todo = [m for m in _with_parents(module) if module_file(code_root, m)]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(imported_modules(code_root, current) - seen)
    return seen


def _is_environ(node: ast.expr) -> bool:
    """`os.environ`, or `environ` imported from os."""
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id == "environ"
    )


def _literal(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _helper_aliases(tree: ast.Module, package: str, module: str) -> tuple[set[str], set[str]]:
    """The names bound in `module` to the env helper, and to the module that defines it."""
    helper_module, helper = ENV_HELPER
    functions: set[str] = set()
    modules: set[str] = set()
    if module == helper_module:
        functions.add(helper)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = _imported_from(node, package)
            for alias in node.names:
                if base == helper_module and alias.name == helper:
                    functions.add(alias.asname or alias.name)
                elif f"{base}.{alias.name}" == helper_module:
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            modules |= {a.asname for a in node.names if a.name == helper_module and a.asname}
    return functions, modules


@functools.cache
def env_reads(code_root: Path, module: str) -> tuple[EnvRead, ...]:
    return tuple(_env_reads(code_root, module))


def _env_reads(code_root: Path, module: str) -> Iterator[EnvRead]:
    """os.environ[...], os.environ.get/setdefault/pop, "X" in os.environ, os.getenv and
    the env helper, in `module`. The helper's own body reads a parameter: its callers count."""
    path = module_file(code_root, module)
    assert path is not None, module
    tree = parse(path)
    helpers, helper_modules = _helper_aliases(tree, _package(code_root, module), module)
    skip: set[int] = set()
    if module == ENV_HELPER[0]:
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name == ENV_HELPER[1]:
                skip |= {id(inner) for inner in ast.walk(node)}
    relative = path.relative_to(code_root)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        where = f"{relative}:{getattr(node, 'lineno', 0)}"
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Load)  # not a write
            and _is_environ(node.value)
        ):
            yield EnvRead(_literal(node.slice), where)
        elif isinstance(node, ast.Compare) and any(_is_environ(c) for c in node.comparators):
            yield EnvRead(_literal(node.left), where)
        elif isinstance(node, ast.Call):
            func, first = node.func, node.args[0] if node.args else None
            if (
                (isinstance(func, ast.Attribute) and func.attr == "getenv")
                or (isinstance(func, ast.Name) and func.id in {"getenv", *helpers})
                or (
                    isinstance(func, ast.Attribute)
                    and func.attr in ("get", "setdefault", "pop")
                    and _is_environ(func.value)
                )
                or (
                    isinstance(func, ast.Attribute)
                    and func.attr == ENV_HELPER[1]
                    and isinstance(func.value, ast.Name)
                    and func.value.id in helper_modules
                )
            ):
                yield EnvRead(_literal(first), where)


def reads_of_handler(code_root: Path, handler: str) -> list[EnvRead]:
    module = handler.rpartition(".")[0]
    return [
        read
        for loaded in sorted(import_closure(code_root, module))
        for read in env_reads(code_root, loaded)
    ]


# ---------------------------------------------------------------- reading the template


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each function's properties, with the Globals it inherits."""
    globals_ = template.get("Globals", {}).get("Function", {})
    found = {}
    for logical, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = {**globals_, **resource["Properties"]}
        props["Environment"] = {
            "Variables": {
                **((globals_.get("Environment") or {}).get("Variables") or {}),
                **((resource["Properties"].get("Environment") or {}).get("Variables") or {}),
            }
        }
        found[logical] = props
    return found


def default_value(template: dict[str, Any], value: Any) -> str | None:
    """A variable's value with every parameter at its default; None if it names a resource."""
    defaults = {k: str(v.get("Default", "")) for k, v in template.get("Parameters", {}).items()}
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return defaults.get(value["Ref"])
    if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        text = value["Fn::Sub"]
        for name in set(_sub_names(text)):
            if name not in defaults:
                return None
            text = text.replace("${" + name + "}", defaults[name])
        return text
    return None


def _sub_names(text: str) -> Iterator[str]:
    start = text.find("${")
    while start >= 0:
        end = text.index("}", start)
        yield text[start + 2 : end]
        start = text.find("${", end)


# ---------------------------------------------------------------- the checks


def environment_problems(template: dict[str, Any], root: Path) -> list[str]:
    problems = []
    for logical, props in sorted(functions(template).items()):
        code_root = root / props["CodeUri"]
        if module_file(code_root, props["Handler"].rpartition(".")[0]) is None:
            continue  # handler_problems says so
        configured = set(props["Environment"]["Variables"])
        for read in reads_of_handler(code_root, props["Handler"]):
            if read.name is None:
                problems.append(
                    f"{logical}: {read.where} reads a variable whose name is not a literal"
                )
            elif read.name not in configured | SET_BY_LAMBDA:
                problems.append(
                    f"{logical}: {read.where} reads {read.name}, which the template does not set"
                )
    return problems


def handler_problems(template: dict[str, Any], root: Path) -> list[str]:
    problems = []
    for logical, props in sorted(functions(template).items()):
        module, _, name = props["Handler"].rpartition(".")
        path = module_file(root / props["CodeUri"], module)
        if path is None:
            problems.append(f"{logical}: Handler {props['Handler']}: no module {module}")
            continue
        defined = {
            node.name
            for node in parse(path).body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        if name not in defined:
            problems.append(f"{logical}: Handler {props['Handler']}: {module} defines no {name}")
    return problems


# The variables the code opens as files: each must be a file of one of the function's layers.
PATH_VARIABLES = frozenset({"CONFIG_FILE"})


def layer_path_problems(template: dict[str, Any], root: Path) -> list[str]:
    resources = template["Resources"]
    problems = []
    for logical, props in sorted(functions(template).items()):
        layers = [
            resources[layer["Ref"]]["Properties"]["ContentUri"]
            for layer in props.get("Layers") or []
            if isinstance(layer, dict)
            and resources.get(layer.get("Ref"), {}).get("Type") == "AWS::Serverless::LayerVersion"
        ]
        variables = props["Environment"]["Variables"]
        code_root = root / props["CodeUri"]
        read = (
            {r.name for r in reads_of_handler(code_root, props["Handler"])}
            if module_file(code_root, props["Handler"].rpartition(".")[0])
            else set()
        )
        for name, value in sorted(variables.items()):
            path = default_value(template, value)
            opens = name in PATH_VARIABLES and name in read
            if path is None or not (opens or path.startswith(LAYER_MOUNT)):
                continue
            if not path.startswith(LAYER_MOUNT):
                problems.append(f"{logical}: {name}={path} is not in a layer ({LAYER_MOUNT}...)")
                continue
            inside = path[len(LAYER_MOUNT) :]
            if not any((root / content / inside).is_file() for content in layers):
                where = ", ".join(layers) or "none"
                problems.append(
                    f"{logical}: {name}={path}: no file {inside} in its layers' content ({where})"
                )
    return problems


CHECKS = {
    "environment": environment_problems,
    "handler": handler_problems,
    "layer path": layer_path_problems,
}


# ---------------------------------------------------------------- the template as it is


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_the_template_and_the_code_agree(check: str) -> None:
    assert CHECKS[check](load_template(TEMPLATE), ROOT) == []


def test_the_checks_see_every_function_and_what_it_reads() -> None:
    """Not vacuous: the seven functions are found, and so are the reads we know of."""
    found = functions(load_template(TEMPLATE))
    assert len(found) == 7
    scan = found["InUseScanFunction"]
    names = {r.name for r in reads_of_handler(ROOT / scan["CodeUri"], scan["Handler"])}
    assert {"CONFIG_FILE", "DRY_RUN_DEFAULT", "MAP_MAX_CONCURRENCY", "RUN_BUCKET"} <= names
    summary = found["SummaryFunction"]
    assert "NOTIFY_ON_SUCCESS" in {
        r.name for r in reads_of_handler(ROOT / summary["CodeUri"], summary["Handler"])
    }
    config_file = scan["Environment"]["Variables"]["CONFIG_FILE"]
    assert default_value(load_template(TEMPLATE), config_file) == "/opt/ecrm.yaml"


# ---------------------------------------------------------------- wrong templates are caught


def wrong_copy(tmp_path: Path, old: str, new: str) -> dict[str, Any]:
    """template.yaml with one change, written to a temporary file and read back."""
    text = TEMPLATE.read_text()
    assert text.count(old) == 1, old
    copy = tmp_path / "template.yaml"
    copy.write_text(text.replace(old, new))
    return load_template(copy)


@pytest.mark.parametrize(
    ("check", "old", "new", "problem"),
    [
        pytest.param(
            "environment",
            "          NOTIFY_ON_SUCCESS: !Ref NotifyOnSuccess\n",
            "",
            "SummaryFunction: ecr_sweeper/handlers/summarize.py:* reads NOTIFY_ON_SUCCESS, "
            "which the template does not set",
            id="a function variable removed",
        ),
        pytest.param(
            "environment",
            "        RUN_BUCKET: !Ref RunBucket\n",
            "",
            "InUseScanFunction: ecr_sweeper/handlers/in_use_scan.py:* reads RUN_BUCKET, "
            "which the template does not set",
            id="a global variable removed",
        ),
        pytest.param(
            "environment",
            "MAP_MAX_CONCURRENCY: !Ref MapMaxConcurrency",
            "MAX_CONCURRENCY: !Ref MapMaxConcurrency",
            "InUseScanFunction: ecr_sweeper/handlers/in_use_scan.py:* reads MAP_MAX_CONCURRENCY, "
            "which the template does not set",
            id="a variable renamed",
        ),
        pytest.param(
            "handler",
            "Handler: ecr_sweeper.handlers.collect.handler",
            "Handler: ecr_sweeper.handlers.collector.handler",
            "CollectorFunction: Handler ecr_sweeper.handlers.collector.handler: "
            "no module ecr_sweeper.handlers.collector",
            id="no such module",
        ),
        pytest.param(
            "handler",
            "Handler: ecr_sweeper.handlers.delete.handler",
            "Handler: ecr_sweeper.handlers.delete.main",
            "DeleterFunction: Handler ecr_sweeper.handlers.delete.main: "
            "ecr_sweeper.handlers.delete defines no main",
            id="no such function",
        ),
        pytest.param(
            "layer path",
            "Default: ecrm.yaml",
            "Default: ecrm.yml",
            "InUseScanFunction: CONFIG_FILE=/opt/ecrm.yml: no file ecrm.yml in its layers' "
            "content (config/)",
            id="ConfigFile default not in the layer",
        ),
        pytest.param(
            "layer path",
            "ContentUri: config/",
            "ContentUri: examples/",
            "InUseScanFunction: CONFIG_FILE=/opt/ecrm.yaml: no file ecrm.yaml in its layers' "
            "content (examples/)",
            id="layer content elsewhere",
        ),
        pytest.param(
            "layer path",
            "      Layers:\n        - !Ref ConfigLayer\n",
            "",
            "InUseScanFunction: CONFIG_FILE=/opt/ecrm.yaml: no file ecrm.yaml in its layers' "
            "content (none)",
            id="layer not attached",
        ),
        pytest.param(
            "layer path",
            "CONFIG_FILE: !Sub /opt/${ConfigFile}",
            "CONFIG_FILE: !Sub config/${ConfigFile}",
            "InUseScanFunction: CONFIG_FILE=config/ecrm.yaml is not in a layer (/opt/...)",
            id="path outside the layer mount",
        ),
    ],
)
def test_a_wrong_template_is_caught(
    tmp_path: Path, check: str, old: str, new: str, problem: str
) -> None:
    """`problem` is a pattern: `*` stands for a line number."""
    problems = CHECKS[check](wrong_copy(tmp_path, old, new), ROOT)
    assert any(fnmatch.fnmatchcase(p, problem) for p in problems), problems


# ---------------------------------------------------------------- reads found through imports


def write_package(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def test_reads_are_found_in_every_module_the_handler_imports(tmp_path: Path) -> None:
    write_package(
        tmp_path / "code",
        {
            "ecr_sweeper/__init__.py": "",
            "ecr_sweeper/handlers/__init__.py": "",
            "ecr_sweeper/handlers/common.py": """
                import os
                def env(name, default=None):
                    return os.environ.get(name, default)
            """,
            "ecr_sweeper/handlers/job.py": """
                from ecr_sweeper import steps
                from ecr_sweeper.handlers import common
                from .common import env as setting
                def handler(event, context):
                    def later():
                        from ecr_sweeper.adapters import late  # imported inside a function
                    return setting("BY_ALIAS"), common.env("BY_MODULE"), steps.run()
            """,
            "ecr_sweeper/steps.py": """
                from . import deep
                def run():
                    return deep.value()
            """,
            "ecr_sweeper/deep.py": """
                import os
                from os import environ, getenv
                def value(name="X"):
                    return (os.environ["SUBSCRIPT"], getenv("GETENV"), environ.get("GET"),
                            "MEMBER" in os.environ, os.environ[name])
            """,
            "ecr_sweeper/adapters/__init__.py": "import os\nREGION = os.getenv('AWS_REGION')\n",
            "ecr_sweeper/adapters/late.py": "import os\nLATE = os.environ.setdefault('LATE', '')\n",
            "ecr_sweeper/unused.py": "import os\nNEVER = os.environ['NOT_IMPORTED']\n",
        },
    )
    template = {
        "Globals": {"Function": {"CodeUri": "code/", "Environment": {"Variables": {"GET": "1"}}}},
        "Resources": {
            "JobFunction": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Handler": "ecr_sweeper.handlers.job.handler",
                    "Environment": {"Variables": {"BY_ALIAS": "1"}},
                },
            }
        },
    }
    problems = environment_problems(template, tmp_path)
    unset = ", which the template does not set"
    missing = {p.split(" reads ")[1].removesuffix(unset) for p in problems if p.endswith(unset)}
    assert missing == {"BY_MODULE", "SUBSCRIPT", "GETENV", "MEMBER", "LATE"}, problems
    assert any("deep.py:6 reads a variable whose name is not a literal" in p for p in problems)
    assert handler_problems(template, tmp_path) == []
