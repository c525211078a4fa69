"""Amazon Inspector's ListCoverage, which moto lacks, served by the emulator.

Only while a moto mock is active, and only for the images the inventory's
`inspector` section lists (see docs/emulator.md).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.handlers import BUILTIN_HANDLERS
from moto.core.models import botocore_stubber

# The covered resources ListCoverage answers with (set by the emulator per account).
COVERAGE: list[dict[str, Any]] = []
PAGE_MAXIMUM = 200


def covered_image(
    account: str,
    region: str,
    repository: str,
    digest: str,
    last_in_use_at: str | None,
    in_use_count: int,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"inUseCount": in_use_count}
    if last_in_use_at is not None:
        metadata["lastInUseAt"] = last_in_use_at
    return {
        "resourceType": "AWS_ECR_CONTAINER_IMAGE",
        "resourceId": f"arn:aws:ecr:{region}:{account}:repository/{repository}/{digest}",
        "accountId": account,
        "scanType": "PACKAGE",
        "resourceMetadata": {"ecrImage": metadata},
    }


def serve(request: Any, event_name: str = "", **kwargs: Any) -> AWSResponse | None:
    if event_name != "before-send.inspector2.ListCoverage" or not botocore_stubber.enabled:
        return None
    from sweeper_emulator.faults import RawBody

    params = json.loads(request.body or b"{}")
    size = min(int(params.get("maxResults") or 100), PAGE_MAXIMUM)
    start = int(params.get("nextToken") or 0)
    answer: dict[str, Any] = {"coveredResources": COVERAGE[start : start + size]}
    if start + size < len(COVERAGE):
        answer["nextToken"] = str(start + size)
    headers = {"Content-Type": "application/json", "x-amzn-RequestId": str(uuid.uuid4())}
    return AWSResponse(request.url, 200, headers, RawBody(json.dumps(answer).encode()))


_installed = False


def install() -> None:
    """Serve ListCoverage for sessions created from now on, just before moto's handler
    (so that fault injection still sees the calls). Idempotent."""
    global _installed
    if _installed:
        return
    positions = [i for i, item in enumerate(BUILTIN_HANDLERS) if item[1] is botocore_stubber]
    BUILTIN_HANDLERS.insert(
        positions[0] if positions else len(BUILTIN_HANDLERS), ("before-send", serve)
    )
    _installed = True
