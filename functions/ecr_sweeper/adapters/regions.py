"""Which AWS services a region offers, as botocore's region data (its endpoints file,
the one bundled with the stack's boto3) says.

The scan decides "this source's service is not offered here" from this data only, never
from an error: a call that cannot connect, times out or is refused may hide a source
that exists and holds the only use of an image, so it fails the run. A region botocore
does not know at all (newer than the bundled botocore) counts as offering every
service: its sources are read, and an error there fails the run. So does a service
botocore lists no regional endpoint for in any partition (a global service, or one too
new for this data, whose endpoints come from its rules only): botocore cannot tell.
"""

from __future__ import annotations

import functools

import boto3
import botocore.session


@functools.cache
def _botocore() -> botocore.session.Session:
    return botocore.session.get_session()


@functools.cache
def _session() -> boto3.Session:
    return boto3.Session(botocore_session=_botocore())


@functools.cache
def _partitions() -> dict[str, frozenset[str]]:
    """Each partition (aws, aws-cn, ...) and the regions botocore knows in it."""
    endpoints = _botocore().get_data("endpoints")
    return {
        partition["partition"]: frozenset(partition.get("regions", {}))
        for partition in endpoints.get("partitions", [])
    }


@functools.cache
def _regions_of(service: str, partition: str) -> frozenset[str]:
    return frozenset(_session().get_available_regions(service, partition_name=partition))


def offered(service: str, region: str) -> bool:
    """False only when botocore knows `region`, lists regions for `service` (a boto3
    service name: "apprunner", "ecs", ...), and `region` is not one of them."""
    partition = next((p for p, regions in _partitions().items() if region in regions), None)
    if partition is None:
        return True  # a region this botocore does not know: read it, fail on an error
    if not any(_regions_of(service, p) for p in _partitions()):
        return True  # no region data for the service at all: botocore cannot tell
    return region in _regions_of(service, partition)
