"""The inventory's CodeBuild projects and builds (`codebuild`), put in the emulator's own
CodeBuild (served/codebuild.py): moto's never has a build in progress."""

from __future__ import annotations

from sweeper_emulator.inventory import CodeBuild
from sweeper_emulator.loaders.offered import require_offered
from sweeper_emulator.served.codebuild import SERVICE, codebuild_backends


def load_codebuild(section: CodeBuild, account: str, region: str) -> None:
    if section != CodeBuild():
        require_offered("codebuild", SERVICE, region)
    codebuild_backends[account][region].load(section)
