"""AWS CodeBuild as the in-use scan reads it (ListProjects, BatchGetProjects, ListBuilds,
BatchGetBuilds), served by the emulator from the inventory's `codebuild` section
(`loaders/codebuild.py` fills it). moto has a CodeBuild, but its BatchGetBuilds reports
every build SUCCEEDED the moment it sees it: no build is ever in progress.

Answered in botocore's `before-send` chain only while a moto mock is active
(`wire.serve_in_place_of_moto`), its data in a moto `BackendDict` (moto's reset clears
it); only where botocore's region data lists CodeBuild (not ca-west-1, say). Pages and
batches have AWS's sizes (100), and a batch over its maximum is refused.
"""

from __future__ import annotations

import uuid
from typing import Any

from botocore.awsrequest import AWSResponse
from moto.core.base_backend import BackendDict, BaseBackend

from sweeper_emulator import wire
from sweeper_emulator.inventory import CodeBuild

SERVICE = "codebuild"  # the botocore service: the event name's and the region data's


class CodeBuildBackend(BaseBackend):
    """The inventory's `codebuild` section for one account and region, and the ids of
    its builds."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.section = CodeBuild()
        self.build_ids: list[str] = []

    def load(self, section: CodeBuild) -> None:
        self.section = section
        self.build_ids = [
            f"{build.project}:{uuid.uuid5(uuid.NAMESPACE_OID, f'{i}')}"
            for i, build in enumerate(section.builds)
        ]


# One backend per region of every partition botocore knows: the loader sets one in every
# region the inventory names (empty where CodeBuild is not offered), and `serve` refuses
# those regions before it looks one up.
codebuild_backends = BackendDict(
    CodeBuildBackend,
    "sweeper-codebuild",
    use_boto3_regions=False,
    additional_regions=sorted(wire.service_regions("ec2")),
)


def _answer(call: wire.ServedCall) -> dict[str, Any]:
    backend = codebuild_backends[call.account][call.region]
    section = backend.section
    prefix = f"arn:aws:codebuild:{call.region}:{call.account}"
    projects = {p.name: p for p in section.projects}
    if call.operation == "ListProjects":
        page, token = wire.page(sorted(projects), call, None, 100, "nextToken")
        return {"projects": page, **({"nextToken": token} if token else {})}
    if call.operation == "BatchGetProjects":
        names = wire.batch(call, "names", 100)
        return {
            "projects": [
                {
                    "name": name,
                    "arn": f"{prefix}:project/{name}",
                    "environment": {
                        "type": "LINUX_CONTAINER",
                        "image": projects[name].image,
                        "computeType": "BUILD_GENERAL1_SMALL",
                        "imagePullCredentialsType": "SERVICE_ROLE",
                    },
                }
                for name in names
                if name in projects
            ],
            "projectsNotFound": [name for name in names if name not in projects],
        }
    builds = dict(zip(backend.build_ids, section.builds, strict=True))
    if call.operation == "ListBuilds":
        page, token = wire.page(list(builds), call, None, 100, "nextToken")
        return {"ids": page, **({"nextToken": token} if token else {})}
    if call.operation == "BatchGetBuilds":
        ids = wire.batch(call, "ids", 100)
        found = []
        for build_id in ids:
            build = builds.get(build_id)
            if build is None:
                continue
            project = projects.get(build.project)
            image = build.image or (project.image if project else None)
            found.append(
                {
                    "id": build_id,
                    "arn": f"{prefix}:build/{build_id}",
                    "projectName": build.project,
                    "buildStatus": build.status,
                    "buildComplete": build.status != "IN_PROGRESS",
                    "environment": {"type": "LINUX_CONTAINER", "image": image},
                }
            )
        return {"builds": found, "buildsNotFound": [i for i in ids if i not in builds]}
    raise call.unserved()


def serve(request: Any, event_name: str = "", **kwargs: Any) -> AWSResponse | None:
    """Answer a CodeBuild request (event_name: "before-send.codebuild.<Operation>")."""
    return wire.serve_in_place_of_moto(request, event_name, SERVICE, _answer)
