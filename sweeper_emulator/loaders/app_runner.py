"""The inventory's App Runner services (`app_runner`), put in the emulator's own App
Runner (served/app_runner.py): moto has none."""

from __future__ import annotations

from sweeper_emulator.inventory import AppRunner
from sweeper_emulator.served.app_runner import app_runner_backends, app_runner_offered


def load_app_runner(section: AppRunner, account: str, region: str) -> None:
    if not section.services:
        return
    if not app_runner_offered(region):
        raise ValueError(
            f"app_runner: App Runner is not offered in {region} (botocore's region data), "
            "so no service can run there"
        )
    backend = app_runner_backends[account][region]
    for spec in section.services:
        backend.add(spec)
