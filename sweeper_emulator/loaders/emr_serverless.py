"""The inventory's EMR Serverless applications (`emr_serverless`), put in the emulator's
own EMR Serverless (served/emr_serverless.py): moto's keeps no image configuration."""

from __future__ import annotations

from sweeper_emulator.inventory import EmrServerless
from sweeper_emulator.loaders.offered import require_offered
from sweeper_emulator.served.emr_serverless import SERVICE, emr_serverless_backends


def load_emr_serverless(section: EmrServerless, account: str, region: str) -> None:
    if section != EmrServerless():
        require_offered("emr_serverless", SERVICE, region)
    emr_serverless_backends[account][region].load(section)
