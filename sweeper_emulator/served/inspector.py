"""Amazon Inspector's ListCoverage, which moto lacks, served by the emulator.

Only while a moto mock is active, and only for the images the inventory's
`inspector` section lists (see docs/emulator.md; `loaders/inspector.py` sets them).
"""

from __future__ import annotations

from typing import Any

from botocore.awsrequest import AWSResponse

from sweeper_emulator import wire

# The covered resources ListCoverage answers with (set by the loader per account).
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
    """Answer ListCoverage (event_name: "before-send.inspector2.ListCoverage")."""
    if event_name != "before-send.inspector2.ListCoverage" or not wire.mock_active():
        return None
    params = wire.request_params(request)
    size = min(int(params.get("maxResults") or 100), PAGE_MAXIMUM)
    start = int(params.get("nextToken") or 0)
    answer: dict[str, Any] = {"coveredResources": COVERAGE[start : start + size]}
    if start + size < len(COVERAGE):
        answer["nextToken"] = str(start + size)
    return wire.json_answer(request.url, 200, answer, content_type="application/json")
