"""The inventory's Amazon Inspector coverage (`inspector`), put in the emulator's own
ListCoverage (served/inspector.py): moto has none."""

from __future__ import annotations

from sweeper_emulator.inventory import Inspector
from sweeper_emulator.served import inspector


def load_inspector(section: Inspector, account: str, region: str) -> None:
    inspector.COVERAGE[:] = [
        inspector.covered_image(
            account,
            region,
            image.repository,
            image.digest,
            image.last_in_use_at.isoformat() if image.last_in_use_at else None,
            image.in_use_count,
        )
        for image in section.images
    ]
