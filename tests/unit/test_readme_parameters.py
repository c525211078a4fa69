"""README's parameter table lists every parameter of template.yaml, and nothing else, with
the template's default: a parameter added to the template without a row fails here."""

from __future__ import annotations

import re
from pathlib import Path

from sweeper_emulator.template import load_template

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\| `(?P<name>[A-Za-z0-9]+)` \| (?P<default>[^|]*) \|")


def readme_parameter_rows() -> dict[str, str]:
    """The rows of the table whose header is `| parameter | default | meaning |`."""
    lines = (ROOT / "README.md").read_text().splitlines()
    start = lines.index("| parameter | default | meaning |")
    rows: dict[str, str] = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        match = ROW.match(line)
        assert match, f"README parameter row not understood: {line}"
        assert match["name"] not in rows, f"{match['name']} is listed twice"
        rows[match["name"]] = match["default"].strip()
    return rows


def test_readme_lists_every_template_parameter_and_no_other() -> None:
    template = set(load_template(ROOT / "template.yaml")["Parameters"])
    readme = set(readme_parameter_rows())
    assert template - readme == set(), "in template.yaml, missing from README's table"
    assert readme - template == set(), "in README's table, not in template.yaml"


def test_readme_gives_each_parameters_default() -> None:
    for name, spec in load_template(ROOT / "template.yaml")["Parameters"].items():
        default = str(spec.get("Default", ""))
        written = readme_parameter_rows()[name].strip("`").strip('"')
        assert written == (default or "empty"), f"{name}: README says {written!r}"
