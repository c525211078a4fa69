"""The check the loaders of a served API make: AWS has no resources of a service in a
region it is not offered in, so neither can an inventory."""

from __future__ import annotations

from sweeper_emulator import wire


def require_offered(key: str, service: str, region: str) -> None:
    """Refuse the inventory's `key` section in `region` unless botocore's region data
    lists `service` there (or has no region data for it)."""
    if not wire.offered(service, region):
        raise ValueError(
            f"{key}: {service} is not offered in {region} (botocore's region data), "
            "so nothing of it can run there"
        )
