"""The emulator's modules import one way: the inventory file format and the wire
helpers at the bottom, the emulator on top. A module may import its own layer or a
lower one, never a higher one, and no two modules import each other in a circle (the
faults -> inventory -> more_sources circle must not come back). See docs/emulator.md.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "sweeper_emulator"
ROOT = Path(__file__).resolve().parents[2] / PACKAGE

# Bottom first. A module is placed by its name in the package (a subpackage by its
# first part: every module of served/ is in "served").
LAYERS: list[set[str]] = [
    # the file formats (the inventory, the template) and the scripts the artifact mode
    # runs in a function's own process (they import nothing from the package)
    {"inventory", "template", "lambda_bootstrap", "retry_waits"},
    {"wire"},  # answering a botocore request ourselves
    {"faults", "served", "moto_patches"},  # what answers a call in place of moto, or in it
    {"loaders"},  # the inventory put into moto (and into served/)
    {"stack_record", "runtime", "artifact_mode", "build"},  # deploy and invoke
    {"emulator"},  # the front door
    {"__main__"},  # the command line
]
LEAVES = {"inventory", "wire"}  # import nothing from the package at all


def _modules() -> dict[str, Path]:
    """Dotted name in the package -> file; a subpackage is named by its folder, the
    package's own __init__ is "__init__"."""
    modules: dict[str, Path] = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if len(parts) > 1 and parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _under_type_checking(tree: ast.Module) -> set[ast.AST]:
    """Imports inside `if TYPE_CHECKING:`: annotations only, never run."""
    skipped: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                skipped.update(ast.walk(child))
    return skipped


def _imports(module: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that `module` imports (anywhere in it, functions included)."""
    tree = ast.parse(path.read_text(), str(path))
    skipped = _under_type_checking(tree)
    package = module.split(".")[:-1] if path.name != "__init__.py" else module.split(".")
    found: set[str] = set()
    for node in ast.walk(tree):
        if node in skipped:
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join([PACKAGE, *package[: len(package) - node.level + 1]])
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            names = [source] + [f"{source}.{alias.name}" for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] != PACKAGE:
                continue
            inner = ".".join(parts[1:])
            while inner and inner not in known:
                inner = inner.rpartition(".")[0]
            if inner and inner != module:
                found.add(inner)
    return found


def _layer(module: str) -> int:
    top = module.split(".")[0]
    for index, layer in enumerate(LAYERS):
        if top in layer:
            return index
    raise AssertionError(
        f"{PACKAGE}/{module.replace('.', '/')}.py is in no layer: add it to LAYERS in "
        "this test, at the layer its imports allow (see docs/emulator.md)"
    )


MODULES = _modules()
GRAPH = {m: _imports(m, p, set(MODULES) - {"__init__"}) for m, p in MODULES.items()}


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m != "__init__"))
def test_a_module_imports_only_its_layer_and_those_below(module: str) -> None:
    own = _layer(module)  # every module has a place, a new one too
    higher = [imported for imported in GRAPH[module] if _layer(imported) > own]
    assert not higher, f"{module} imports a later layer: {sorted(higher)}"


@pytest.mark.parametrize("leaf", sorted(LEAVES))
def test_the_leaves_import_nothing_from_the_package(leaf: str) -> None:
    assert GRAPH[leaf] == set()


def test_no_modules_import_each_other_in_a_circle() -> None:
    # Depth-first, the path kept: a module met again on its own path closes a circle.
    def visit(module: str, path: list[str]) -> None:
        for imported in sorted(GRAPH[module]):
            if imported in path:
                circle = [*path[path.index(imported) :], imported]
                raise AssertionError("import circle: " + " -> ".join(circle))
            visit(imported, [*path, imported])

    for module in sorted(GRAPH):
        visit(module, [module])


def test_the_layer_check_sees_imports() -> None:
    """The check reads real imports: the front door imports the loaders and the served
    APIs, the loaders the inventory (else every assertion above would pass vacuously)."""
    assert {"loaders", "served", "runtime", "inventory"} <= GRAPH["emulator"]
    assert "inventory" in GRAPH["loaders.ecs"]
    assert "wire" in GRAPH["served.app_runner"]
