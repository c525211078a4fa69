"""`sam build` for this machine: the artifact that the artifact mode runs.

The template builds for arm64 (what is deployed by default). Its compiled packages
(pydantic_core, PyYAML) cannot be imported on another architecture, so the emulator,
`make demo` and the tests build for the machine they run on, with the template's
Architecture parameter: the same code and the same requirements, only the wheels differ.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

from sweeper_emulator.runtime import ROOT

BUILD_DIR = Path(".aws-sam") / "build-host"


def host_architecture() -> str:
    """The template's Architecture value for this machine."""
    machine = platform.machine().lower()
    if machine in ("x86_64", "amd64"):
        return "x86_64"
    if machine in ("aarch64", "arm64"):
        return "arm64"
    raise RuntimeError(f"Lambda has no architecture for this machine ({machine})")


STAMP = "sources.sha256"


def _sources_digest(root: Path) -> str:
    """What a build is made of: the template and everything under functions/."""
    digest = hashlib.sha256()
    files = [root / "template.yaml", *sorted((root / "functions").rglob("*"))]
    for path in files:
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    digest.update(host_architecture().encode())
    return digest.hexdigest()


def build(root: Path = ROOT, build_dir: Path | None = None, only: str | None = None) -> Path:
    """Run `sam build` for this machine's architecture; return the build folder.

    Skipped when the folder was built from the same sources; otherwise cached (sam
    rebuilds a function whose code or requirements changed). `only`: one function's
    logical ID. Needs the runtime's Python (python3.13) on PATH: the virtualenv's own
    comes first.
    """
    target = (root / (build_dir or BUILD_DIR)).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    # One build at a time into a folder (the test suite's parallel workers share it).
    with open(target.parent / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build(root, target, only)


def _build(root: Path, target: Path, only: str | None) -> Path:
    sources = _sources_digest(root) + (f" {only}" if only else "")
    stamp = target / STAMP
    if stamp.is_file() and stamp.read_text() == sources:
        return target
    tools = Path(sys.executable).parent
    sam = shutil.which("sam", path=str(tools)) or shutil.which("sam")
    if sam is None:
        raise RuntimeError("sam is not installed (make installs it into .venv)")
    command = [
        sam,
        "build",
        *([only] if only else []),
        "--template",
        str(root / "template.yaml"),
        "--build-dir",
        str(target),
        "--cached",
        "--parameter-overrides",
        f"Architecture={host_architecture()}",
    ]
    environment = {
        **os.environ,
        "PATH": f"{tools}{os.pathsep}{os.environ.get('PATH', '')}",
        "SAM_CLI_TELEMETRY": "0",
    }
    done = subprocess.run(command, cwd=root, env=environment, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"sam build failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    stamp.write_text(sources)
    return target
