"""Pages, as AWS returns them, for the list operations that moto answers all at once.

moto returns every cluster, service, task, family, task definition, repository,
function, version and alias in one response. AWS pages them: at most `maxResults`
(or `MaxItems`) a response, up to the operation's own maximum, with a token for the
rest. `install()` cuts moto's full answers into those pages, so that the number of
calls the handlers make is the number they would make in AWS. It also applies the
`sort` of ListTaskDefinitions and the `status` of ListTaskDefinitionFamilies, which
moto ignores.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto.awslambda import responses as lambda_responses
from moto.core.responses import ActionResult
from moto.ecr import responses as ecr_responses
from moto.ecs import responses as ecs_responses

TOKEN_PREFIX = "emulated-page-"


@dataclass(frozen=True)
class Paging:
    key: str  # the list in the response
    default: int  # page size when the request sets none
    maximum: int  # the most one response holds, whatever the request asks


ECS = {
    "list_clusters": Paging("clusterArns", 100, 100),
    "list_services": Paging("serviceArns", 10, 100),
    "list_tasks": Paging("taskArns", 100, 100),
    "list_task_definition_families": Paging("families", 100, 100),
    "list_task_definitions": Paging("taskDefinitionArns", 100, 100),
}
ECR = {"describe_repositories": Paging("repositories", 100, 1000)}
LAMBDA = {
    "list_functions": Paging("Functions", 50, 50),
    "list_versions_by_function": Paging("Versions", 50, 50),
    "list_aliases": Paging("Aliases", 50, 10_000),
}


def _page(items: list[Any], size: Any, token: Any, paging: Paging) -> tuple[list[Any], str | None]:
    size = min(int(size or paging.default), paging.maximum)
    start = int(str(token)[len(TOKEN_PREFIX) :]) if token else 0
    end = start + size
    return items[start:end], f"{TOKEN_PREFIX}{end}" if end < len(items) else None


def _revision_key(arn: str) -> tuple[str, int]:
    family, _, revision = arn.rsplit("/", 1)[-1].rpartition(":")
    return family, int(revision) if revision.isdigit() else 0


def _json_api(original: Callable[..., Any], name: str, paging: Paging) -> Callable[..., Any]:
    """ECS and ECR: JSON parameters in, an ActionResult out; `nextToken`."""

    def paged(self: Any) -> Any:
        result = original(self)
        data = dict(result.result)
        items = list(data.get(paging.key, []))
        if name == "list_task_definitions":
            items.sort(key=_revision_key, reverse=self._get_param("sort") == "DESC")
        if name == "list_task_definition_families":
            items = _families_with_status(self, items, self._get_param("status") or "ACTIVE")
        page, token = _page(
            items, self._get_param("maxResults"), self._get_param("nextToken"), paging
        )
        data[paging.key] = page
        data.pop("nextToken", None)
        if token:
            data["nextToken"] = token
        return ActionResult(data)

    return paged


def _families_with_status(self: Any, families: list[str], status: str) -> list[str]:
    """ACTIVE: families with an ACTIVE revision; INACTIVE: families with none; ALL: all."""
    if status == "ALL":
        return families
    revisions = self.ecs_backend.task_definitions
    active = {f for f in families if any(d.status == "ACTIVE" for d in revisions[f].values())}
    return [f for f in families if (f in active) == (status == "ACTIVE")]


def _rest_api(original: Callable[..., Any], paging: Paging) -> Callable[..., Any]:
    """Lambda: query parameters `MaxItems` and `Marker`; `NextMarker`; a JSON body."""

    def paged(self: Any) -> Any:
        answer = original(self)
        status, headers, body = answer if isinstance(answer, tuple) else (200, {}, answer)
        data = json.loads(body)
        page, token = _page(
            list(data.get(paging.key, [])),
            self.querystring.get("MaxItems", [None])[0],
            self.querystring.get("Marker", [None])[0],
            paging,
        )
        data[paging.key] = page
        data.pop("NextMarker", None)
        if token:
            data["NextMarker"] = token
        body = json.dumps(data)
        return (status, headers, body) if isinstance(answer, tuple) else body

    return paged


_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    for name, paging in ECS.items():
        original = getattr(ecs_responses.EC2ContainerServiceResponse, name)
        setattr(ecs_responses.EC2ContainerServiceResponse, name, _json_api(original, name, paging))
    for name, paging in ECR.items():
        original = getattr(ecr_responses.ECRResponse, name)
        setattr(ecr_responses.ECRResponse, name, _json_api(original, name, paging))
    for name, paging in LAMBDA.items():
        original = getattr(lambda_responses.LambdaResponse, name)
        setattr(lambda_responses.LambdaResponse, name, _rest_api(original, paging))
    _installed = True
