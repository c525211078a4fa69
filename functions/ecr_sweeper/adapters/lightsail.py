"""Amazon Lightsail as a source of "in use": container services' deployments.

Kept: every container image of a service's current deployment and of its next one (the
deployment in progress, which replaces the current one when it is healthy). Images
pushed to Lightsail's own registry (`:service.label.N`) and public images are no ECR
images of this registry, and are ignored by the reference parser like any other.

Calls: GetContainerServices, once (it answers every container service of the region in
one page: Lightsail pages none of it).
Every API error goes through `classify`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ecr_sweeper.adapters.aws import called
from ecr_sweeper.core.in_use import InUseBuilder, PlaceBuilder

SOURCE = "lightsail"


def deployment_images(deployment: dict[str, Any] | None) -> Iterator[tuple[str, str]]:
    """(container name, image) of a deployment, containers in name order."""
    containers = (deployment or {}).get("containers") or {}
    for name in sorted(containers):
        image = (containers[name] or {}).get("image")
        if image:
            yield name, image


def collect_lightsail_usage(
    lightsail: Any, builder: InUseBuilder | PlaceBuilder, source: str = SOURCE
) -> None:
    services = called(lightsail, "get_container_services").get("containerServices") or []
    for service in sorted(services, key=lambda s: str(s.get("containerServiceName"))):
        name = service.get("containerServiceName")
        for which in ("currentDeployment", "nextDeployment"):
            for container, image in deployment_images(service.get(which)):
                builder.add(image, f"lightsail:container-service/{name}/{container}", source)
