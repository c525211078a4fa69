"""Amazon Lightsail's container services as the in-use scan reads them
(GetContainerServices), served by the emulator from the inventory's `lightsail` section
(`loaders/lightsail.py` fills it): moto has no Lightsail container services.

Answered in botocore's `before-send` chain only while a moto mock is active
(`wire.serve_in_place_of_moto`), its data in a moto `BackendDict` (moto's reset clears
it); only where botocore's region data lists Lightsail (not us-west-1, say).
"""

from __future__ import annotations

from typing import Any

from botocore.awsrequest import AWSResponse
from moto.core.base_backend import BackendDict, BaseBackend

from sweeper_emulator import wire
from sweeper_emulator.inventory import Lightsail

SERVICE = "lightsail"  # the botocore service: the event name's and the region data's


class LightsailBackend(BaseBackend):
    """The inventory's `lightsail` section for one account and region."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.section = Lightsail()

    def load(self, section: Lightsail) -> None:
        self.section = section


# One backend per region of every partition botocore knows: the loader sets one in every
# region the inventory names (empty where Lightsail is not offered), and `serve` refuses
# those regions before it looks one up.
lightsail_backends = BackendDict(
    LightsailBackend,
    "sweeper-lightsail",
    use_boto3_regions=False,
    additional_regions=sorted(wire.service_regions("ec2")),
)


def _deployment(containers: dict[str, str], version: int, state: str) -> dict[str, Any]:
    return {
        "version": version,
        "state": state,
        "containers": {name: {"image": image} for name, image in containers.items()},
        "createdAt": 0,
    }


def _answer(call: wire.ServedCall) -> dict[str, Any]:
    if call.operation != "GetContainerServices":
        raise call.unserved()
    services = []
    for service in lightsail_backends[call.account][call.region].section.container_services:
        if call.params.get("serviceName") not in (None, service.name):
            continue
        shown: dict[str, Any] = {
            "containerServiceName": service.name,
            "arn": f"arn:aws:lightsail:{call.region}:{call.account}:ContainerService/x",
            "state": "UPDATING" if service.next is not None else "RUNNING",
            "power": "nano",
            "scale": 1,
        }
        if service.current:
            shown["currentDeployment"] = _deployment(service.current, 1, "ACTIVE")
        if service.next is not None:
            shown["nextDeployment"] = _deployment(service.next, 2, "ACTIVATING")
        services.append(shown)
    return {"containerServices": services}


def serve(request: Any, event_name: str = "", **kwargs: Any) -> AWSResponse | None:
    """Answer a Lightsail request (event_name: "before-send.lightsail.<Operation>")."""
    return wire.serve_in_place_of_moto(request, event_name, SERVICE, _answer)
