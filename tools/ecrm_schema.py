"""Write the JSON Schema of ecrm.yaml (schema/ecrm.schema.json) from the config models.

    python tools/ecrm_schema.py           # write it (make schema)
    python tools/ecrm_schema.py --check   # exit 1 if the file is out of date

tests/unit/test_config_schema.py runs the check: after changing a config model, run
`make schema` and commit the file. config/ecrm.yaml's first line points editors at it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ecr_sweeper.core.config_schema import SCHEMA_PATH, ecrm_schema_text

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is out of date")
    args = parser.parse_args()
    path = ROOT / SCHEMA_PATH
    text = ecrm_schema_text()
    if args.check:
        if not path.exists() or path.read_text() != text:
            print(f"{SCHEMA_PATH} is out of date: run `make schema`", file=sys.stderr)
            return 1
        return 0
    path.write_text(text)
    print(f"wrote {SCHEMA_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
