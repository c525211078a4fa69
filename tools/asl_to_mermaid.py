"""Draw a state machine (Amazon States Language, JSON) as a Mermaid flowchart.

The diagram in docs/design.md is this script's output for statemachine/sweep.asl.json;
tests/unit/test_mermaid.py fails when they differ. After changing the ASL:

    python tools/asl_to_mermaid.py --write docs/design.md   # replace the ```mermaid block
    python tools/asl_to_mermaid.py --check docs/design.md   # exit 1 if it is out of date
    python tools/asl_to_mermaid.py                          # print the diagram

What is drawn:

* every state, shaped by its type: Task `[ ]`, Pass `[/ /]`, Choice `{ }`, Wait `( )`,
  Succeed and Fail `([ ])` (Fail states red);
* `Next` and `Default` as plain arrows, each Choice rule labelled with its condition,
  each `Catch` labelled `error` (or with its error names when not `States.ALL`);
* a Map as a subgraph of its ItemProcessor (or Iterator), a Parallel as a subgraph
  with one subgraph per branch; `End: true` inside them leads to the subgraph's
  end node, at the top level to `end`;
* the start of the machine as `start`.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ASL = ROOT / "statemachine" / "sweep.asl.json"
DESIGN = ROOT / "docs" / "design.md"
INDENT = "    "
BLOCK_RE = re.compile(r"^```mermaid\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_PLAIN_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_PLAIN_LABEL = re.compile(r"[A-Za-z0-9_ ]+")
# Words that cannot be node ids in a Mermaid flowchart.
_RESERVED = {"end", "graph", "flowchart", "subgraph", "style", "class", "classDef", "click"}
_SHAPES = {
    "Task": ("[", "]"),
    "Pass": ("[/", "/]"),
    "Choice": ("{", "}"),
    "Wait": ("(", ")"),
    "Succeed": ("([", "])"),
    "Fail": ("([", "])"),
}
_COMPARISON = re.compile(
    r"(String|Numeric|Boolean|Timestamp)(Equals|LessThan|GreaterThan|LessThanEquals|"
    r"GreaterThanEquals|Matches)(Path)?$|Is(Null|Present|Numeric|String|Boolean|Timestamp)$"
)
_OPERATORS = {
    "Equals": "==",
    "LessThan": "<",
    "GreaterThan": ">",
    "LessThanEquals": "<=",
    "GreaterThanEquals": ">=",
    "Matches": "matches",
}


class _Ids:
    """Mermaid node ids: the state's name when that is a safe id, else a unique safe one."""

    def __init__(self) -> None:
        self._by_name: dict[str, str] = {}
        self._taken: set[str] = set()

    def claim(self, wanted: str) -> str:
        base = re.sub(r"\W", "_", wanted, flags=re.ASCII).strip("_") or "state"
        if not _PLAIN_ID.fullmatch(base) or base in _RESERVED:
            base = f"s_{base}"
        candidate, n = base, 1
        while candidate in self._taken:
            n += 1
            candidate = f"{base}_{n}"
        self._taken.add(candidate)
        return candidate

    def state(self, name: str) -> str:
        if name not in self._by_name:
            self._by_name[name] = self.claim(name)
        return self._by_name[name]


def _label(text: str) -> str:
    if _PLAIN_LABEL.fullmatch(text):
        return text
    return '"' + text.replace('"', "#quot;") + '"'


def _edge_label(text: str) -> str:
    if _PLAIN_LABEL.fullmatch(text):
        return text
    return '"' + text.replace('"', "#quot;").replace("|", "#124;") + '"'


def _condition(rule: dict[str, Any]) -> str:
    """A Choice rule as a short text: `$.x == 'a'`, `not (...)`, `... and ...`."""
    if "Condition" in rule:  # JSONata
        return str(rule["Condition"])
    if "Not" in rule:
        return f"not ({_condition(rule['Not'])})"
    for combinator in ("And", "Or"):
        if combinator in rule:
            return f" {combinator.lower()} ".join(f"({_condition(r)})" for r in rule[combinator])
    for key, value in rule.items():
        match = _COMPARISON.fullmatch(key)
        if match is None:
            continue
        variable = rule.get("Variable", "?")
        if match.group(4):  # IsNull, IsPresent, ...
            return f"{variable} is {'' if value else 'not '}{match.group(4).lower()}"
        shown = value if match.group(3) else json.dumps(value)
        return f"{variable} {_OPERATORS[match.group(2)]} {shown}"
    return "rule"


def _errors(catcher: dict[str, Any]) -> str:
    errors = catcher.get("ErrorEquals", [])
    return "error" if errors == ["States.ALL"] else ", ".join(errors)


class _Drawer:
    def __init__(self) -> None:
        self.ids = _Ids()
        self.lines: list[str] = []
        self.fail: list[str] = []

    def emit(self, depth: int, text: str) -> None:
        self.lines.append(INDENT * depth + text)

    def machine(
        self, states: dict[str, Any], start: str, depth: int, prefix: str, texts: tuple[str, str]
    ) -> None:
        """Nodes and edges of one level, with its start and (if used) end node."""
        for name in states:  # every state gets its id first: edges may point forwards
            self.ids.state(name)
        start_id, end_id = self.ids.claim(f"{prefix}Start"), self.ids.claim(f"{prefix}End")
        self.emit(depth, f"{start_id}([{_label(texts[0])}]) --> {self.ids.state(start)}")
        end_used = False
        for name, state in states.items():
            end_used |= self.state(name, state, depth, end_id)
        if end_used:
            self.emit(depth, f"{end_id}([{_label(texts[1])}])")

    def state(self, name: str, state: dict[str, Any], depth: int, end_id: str) -> bool:
        """Draw one state and its transitions; True if it ends its level."""
        sid = self.ids.state(name)
        kind = state.get("Type", "Task")
        if kind == "Map":
            self.map(name, sid, state, depth)
        elif kind == "Parallel":
            self.parallel(name, sid, state, depth)
        else:
            left, right = _SHAPES.get(kind, ("[", "]"))
            self.emit(depth, f"{sid}{left}{_label(name)}{right}")
            if kind == "Fail":
                self.fail.append(sid)
        for i, rule in enumerate(state.get("Choices", []), 1):
            label = _edge_label(f"{i}: {_condition(rule)}")
            self.emit(depth, f"{sid} -->|{label}| {self.ids.state(rule['Next'])}")
        if "Default" in state:
            self.emit(depth, f"{sid} -->|default| {self.ids.state(state['Default'])}")
        if "Next" in state:
            self.emit(depth, f"{sid} --> {self.ids.state(state['Next'])}")
        if state.get("End"):
            self.emit(depth, f"{sid} --> {end_id}")
        for catcher in state.get("Catch", []):
            label = _edge_label(_errors(catcher))
            self.emit(depth, f"{sid} -->|{label}| {self.ids.state(catcher['Next'])}")
        return bool(state.get("End"))

    def map(self, name: str, sid: str, state: dict[str, Any], depth: int) -> None:
        processor = state.get("ItemProcessor") or state.get("Iterator") or {}
        mode = (processor.get("ProcessorConfig") or {}).get("Mode", "INLINE")
        over = state.get("Label") or "items"
        if mode == "DISTRIBUTED":
            title = f"{name}: Distributed Map over {over}, one child execution each"
            texts = ("child execution starts", "child execution succeeds")
        else:
            title = f"{name}: Map over {over}"
            texts = ("iteration starts", "iteration done")
        self.emit(depth, f"subgraph {sid}[{_label(title)}]")
        self.machine(processor.get("States", {}), processor["StartAt"], depth + 1, f"{sid}_", texts)
        self.emit(depth, "end")

    def parallel(self, name: str, sid: str, state: dict[str, Any], depth: int) -> None:
        self.emit(depth, f"subgraph {sid}[{_label(f'{name}: Parallel')}]")
        for i, branch in enumerate(state.get("Branches", []), 1):
            bid = self.ids.claim(f"{sid}_branch{i}")
            self.emit(depth + 1, f"subgraph {bid}[{_label(f'branch {i}')}]")
            texts = ("branch starts", "branch done")
            self.machine(branch.get("States", {}), branch["StartAt"], depth + 2, f"{bid}_", texts)
            self.emit(depth + 1, "end")
        self.emit(depth, "end")


def asl_to_mermaid(asl: dict[str, Any], source: str = "statemachine/sweep.asl.json") -> str:
    """The Mermaid flowchart of a state machine definition (parsed ASL JSON)."""
    drawer = _Drawer()
    drawer.emit(0, "flowchart TD")
    drawer.emit(1, f"%% Generated from {source} by tools/asl_to_mermaid.py: do not edit by hand.")
    drawer.machine(asl["States"], asl["StartAt"], 1, "", ("start", "end"))
    if drawer.fail:
        drawer.emit(1, "classDef fail stroke:#c33,stroke-width:2px")
        drawer.emit(1, f"class {','.join(drawer.fail)} fail")
    return "\n".join(drawer.lines) + "\n"


def extract_block(markdown: str) -> str:
    """The text of the first ```mermaid block."""
    match = BLOCK_RE.search(markdown)
    if match is None:
        raise ValueError("no ```mermaid block found")
    return match.group(1)


def replace_block(markdown: str, diagram: str) -> str:
    """`markdown` with its first ```mermaid block replaced by `diagram`."""
    extract_block(markdown)  # raises if there is none
    return BLOCK_RE.sub(lambda _: f"```mermaid\n{diagram}```", markdown, count=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--asl", type=Path, default=ASL, help="the ASL JSON file")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", type=Path, metavar="MARKDOWN", help="replace its mermaid block")
    group.add_argument("--check", type=Path, metavar="MARKDOWN", help="exit 1 if it is stale")
    args = parser.parse_args(argv)
    asl_path = args.asl.resolve()
    inside = asl_path.is_relative_to(ROOT)
    source = asl_path.relative_to(ROOT).as_posix() if inside else asl_path.name
    diagram = asl_to_mermaid(json.loads(asl_path.read_text()), source=source)
    if args.write:
        args.write.write_text(replace_block(args.write.read_text(), diagram))
    elif args.check:
        if extract_block(args.check.read_text()) != diagram:
            print(
                f"{args.check}: the mermaid diagram does not match {args.asl}; run "
                f"python tools/asl_to_mermaid.py --write {args.check}",
                file=sys.stderr,
            )
            return 1
    else:
        sys.stdout.write(diagram)
    return 0


if __name__ == "__main__":
    sys.exit(main())
