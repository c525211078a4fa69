"""The Resource Groups Tagging API's GetResources for ECR repositories, which moto's
Tagging API does not cover (its ECR backend does not take part), served by the emulator.

Only while a moto mock is active. It answers from moto's ECR backend as it is at the
call (a tag set during a run is seen by the next call), pages as AWS does
(ResourcesPerPage, at most 100), and, like AWS, lists only resources that have tags.
Other resource types answer an empty list: the product asks for `ecr:repository` only.
"""

from __future__ import annotations

import re
from typing import Any

from botocore.awsrequest import AWSResponse

from sweeper_emulator import wire

EVENT = "before-send.resource-groups-tagging-api.GetResources"
PAGE_MAXIMUM = 100
_SCOPE = re.compile(r"Credential=[^/]+/[0-9]+/([a-z0-9-]+)/")


def _matches(tags: dict[str, str], tag_filters: list[dict[str, Any]]) -> bool:
    """Every filter's key present, with one of its values when it names any (AWS's AND
    of filters, OR of values)."""
    return all(
        f.get("Key") in tags and (not f.get("Values") or tags[f["Key"]] in f["Values"])
        for f in tag_filters
    )


def _repositories(account: str, region: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    from moto.ecr.models import ecr_backends

    types = params.get("ResourceTypeFilters") or ["ecr:repository"]
    if not any(t in ("ecr", "ecr:repository") for t in types):
        return []
    if account not in ecr_backends or region not in ecr_backends[account]:
        return []
    backend = ecr_backends[account][region]
    found = []
    for repository in sorted(backend.repositories.values(), key=lambda r: r.arn):
        listed = backend.tagger.list_tags_for_resource(repository.arn)["tags"]
        tags = {t["Key"]: t["Value"] for t in listed}
        if tags and _matches(tags, params.get("TagFilters") or []):
            found.append({"ResourceARN": repository.arn, "Tags": listed})
    return found


def serve(request: Any, event_name: str = "", **kwargs: Any) -> AWSResponse | None:
    """Answer GetResources (event_name: EVENT)."""
    if event_name != EVENT or not wire.mock_active():
        return None
    authorization = request.headers.get("Authorization") or b""
    if isinstance(authorization, bytes):
        authorization = authorization.decode()
    scope = _SCOPE.search(authorization)  # the region the request is signed for
    region = scope.group(1) if scope else "us-east-1"
    params = wire.request_params(request)
    size = min(int(params.get("ResourcesPerPage") or PAGE_MAXIMUM), PAGE_MAXIMUM)
    start = int(params.get("PaginationToken") or 0)
    resources = _repositories(wire.request_account(request), region, params)
    answer: dict[str, Any] = {
        "ResourceTagMappingList": resources[start : start + size],
        # AWS ends the listing with an empty token, not an absent one.
        "PaginationToken": str(start + size) if start + size < len(resources) else "",
    }
    return wire.json_answer(request.url, 200, answer, content_type="application/x-amz-json-1.1")
