"""The inventory's Lightsail container services (`lightsail`), put in the emulator's own
Lightsail (served/lightsail.py): moto has none."""

from __future__ import annotations

from sweeper_emulator.inventory import Lightsail
from sweeper_emulator.loaders.offered import require_offered
from sweeper_emulator.served.lightsail import SERVICE, lightsail_backends


def load_lightsail(section: Lightsail, account: str, region: str) -> None:
    if section != Lightsail():
        require_offered("lightsail", SERVICE, region)
    lightsail_backends[account][region].load(section)
