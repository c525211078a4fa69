"""Amazon EMR Serverless as the in-use scan reads it (ListApplications, GetApplication),
served by the emulator from the inventory's `emr_serverless` section
(`loaders/emr_serverless.py` fills it). moto has an EMR Serverless, but it keeps no
image configuration.

Answered in botocore's `before-send` chain only while a moto mock is active
(`wire.serve_in_place_of_moto`), its data in a moto `BackendDict` (moto's reset clears
it); only where botocore's region data lists EMR Serverless. Pages have AWS's size (50).
"""

from __future__ import annotations

from typing import Any

from botocore.awsrequest import AWSResponse
from moto.core.base_backend import BackendDict, BaseBackend

from sweeper_emulator import wire
from sweeper_emulator.inventory import EmrServerless, EmrServerlessApplication

SERVICE = "emr-serverless"  # the botocore service: the event name's and the region data's


class EmrServerlessBackend(BaseBackend):
    """The inventory's `emr_serverless` section for one account and region, and the ids
    of its applications."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.section = EmrServerless()
        self.application_ids: list[str] = []

    def load(self, section: EmrServerless) -> None:
        self.section = section
        self.application_ids = [f"00{i:014x}" for i, _ in enumerate(section.applications)]


# One backend per region of every partition botocore knows: the loader sets one in every
# region the inventory names (empty where EMR Serverless is not offered), and `serve` refuses
# those regions before it looks one up.
emr_serverless_backends = BackendDict(
    EmrServerlessBackend,
    "sweeper-emr-serverless",
    use_boto3_regions=False,
    additional_regions=sorted(wire.service_regions("ec2")),
)


def _answer(call: wire.ServedCall) -> dict[str, Any]:
    backend = emr_serverless_backends[call.account][call.region]
    applications = dict(zip(backend.application_ids, backend.section.applications, strict=True))
    prefix = f"arn:aws:emr-serverless:{call.region}:{call.account}:/applications"

    def shown(application_id: str, application: EmrServerlessApplication) -> dict[str, Any]:
        return {
            "id": application_id,
            "applicationId": application_id,
            "name": application.name,
            "arn": f"{prefix}/{application_id}",
            "releaseLabel": "emr-7.0.0",
            "type": "Spark",
            "state": application.state,
            "createdAt": 0,
            "updatedAt": 0,
        }

    if call.operation == "ListApplications":
        states = call.params.get("states")
        states = [states] if isinstance(states, str) else states
        listed = [shown(i, a) for i, a in applications.items() if not states or a.state in states]
        page, token = wire.page(listed, call, "maxResults", 50, "nextToken")
        for summary in page:
            summary.pop("applicationId")
        return {"applications": page, **({"nextToken": token} if token else {})}
    if call.operation == "GetApplication":
        application_id = call.path.rstrip("/").rsplit("/", 1)[-1]
        application = applications.get(application_id)
        if application is None:
            raise wire.Refused(
                "ResourceNotFoundException", f"Application {application_id} does not exist", 404
            )
        detail = shown(application_id, application)
        detail.pop("id")
        if application.image:
            detail["imageConfiguration"] = {"imageUri": application.image}
        if application.worker_images:
            detail["workerTypeSpecifications"] = {
                worker: {"imageConfiguration": {"imageUri": image}}
                for worker, image in application.worker_images.items()
            }
        return {"application": detail}
    raise call.unserved()


def serve(request: Any, event_name: str = "", **kwargs: Any) -> AWSResponse | None:
    """Answer a EMR Serverless request (event_name: "before-send.emr-serverless.<Operation>")."""
    return wire.serve_in_place_of_moto(request, event_name, SERVICE, _answer)
