"""Amazon SageMaker as the in-use scan reads it (ListModels, DescribeModel,
ListTrainingJobs, DescribeTrainingJob, ListProcessingJobs, DescribeProcessingJob,
ListImages, ListImageVersions, DescribeImageVersion), served by the emulator from the
inventory's `sagemaker` section (`loaders/sagemaker.py` fills it). moto has a SageMaker,
but no Studio images.

Answered in botocore's `before-send` chain only while a moto mock is active
(`wire.serve_in_place_of_moto`), its data in a moto `BackendDict` (moto's reset clears
it); only where botocore's region data lists SageMaker. Pages have AWS's size (100).
"""

from __future__ import annotations

from typing import Any

from botocore.awsrequest import AWSResponse
from moto.core.base_backend import BackendDict, BaseBackend

from sweeper_emulator import wire
from sweeper_emulator.inventory import SageMaker

SERVICE = "sagemaker"  # the botocore service: the event name's and the region data's


class SageMakerBackend(BaseBackend):
    """The inventory's `sagemaker` section for one account and region."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.section = SageMaker()

    def load(self, section: SageMaker) -> None:
        self.section = section


# One backend per region of every partition botocore knows: the loader sets one in every
# region the inventory names (empty where SageMaker is not offered), and `serve` refuses
# those regions before it looks one up.
sagemaker_backends = BackendDict(
    SageMakerBackend,
    "sweeper-sagemaker",
    use_boto3_regions=False,
    additional_regions=sorted(wire.service_regions("ec2")),
)


def _answer(call: wire.ServedCall) -> dict[str, Any]:
    section = sagemaker_backends[call.account][call.region].section
    prefix = f"arn:aws:sagemaker:{call.region}:{call.account}"

    def listing(items: list[Any], key: str) -> dict[str, Any]:
        page, token = wire.page(items, call, "MaxResults", 100, "NextToken")
        return {key: page, **({"NextToken": token} if token else {})}

    def not_found(what: str) -> wire.Refused:
        return wire.Refused("ValidationException", f"Could not find {what}")

    models = {m.name: m for m in section.models}
    training = {j.name: j for j in section.training_jobs}
    processing = {j.name: j for j in section.processing_jobs}
    images = sorted({v.image for v in section.image_versions})
    status = call.params.get("StatusEquals")
    if call.operation == "ListModels":
        summaries = [{"ModelName": n, "ModelArn": f"{prefix}:model/{n}"} for n in sorted(models)]
        return listing(summaries, "Models")
    if call.operation == "DescribeModel":
        model = models.get(call.params.get("ModelName", ""))
        if model is None:
            raise not_found(f'model "{call.params.get("ModelName")}".')
        containers = [{"Image": image} for image in model.images]
        shape = (
            {"PrimaryContainer": containers[0]}
            if len(containers) == 1
            else {"Containers": containers}
        )
        return {"ModelName": model.name, "ModelArn": f"{prefix}:model/{model.name}", **shape}
    for operation, jobs, kind in (
        ("TrainingJob", training, "training-job"),
        ("ProcessingJob", processing, "processing-job"),
    ):
        if call.operation == f"List{operation}s":
            summaries = [
                {
                    f"{operation}Name": j.name,
                    f"{operation}Arn": f"{prefix}:{kind}/{j.name}",
                    f"{operation}Status": j.status,
                    "CreationTime": 0,
                }
                for j in sorted(jobs.values(), key=lambda j: j.name)
                if status is None or j.status == status
            ]
            return listing(summaries, f"{operation}Summaries")
        if call.operation == f"Describe{operation}":
            job = jobs.get(call.params.get(f"{operation}Name", ""))
            if job is None:
                raise not_found(f"{kind} {call.params.get(f'{operation}Name')}")
            where = (
                {"AlgorithmSpecification": {"TrainingImage": job.image}}
                if operation == "TrainingJob"
                else {"AppSpecification": {"ImageUri": job.image}}
            )
            return {
                f"{operation}Name": job.name,
                f"{operation}Arn": f"{prefix}:{kind}/{job.name}",
                f"{operation}Status": job.status,
                **where,
            }
    if call.operation == "ListImages":
        summaries = [
            {"ImageName": n, "ImageArn": f"{prefix}:image/{n}", "ImageStatus": "CREATED"}
            for n in images
        ]
        return listing(summaries, "Images")
    name = call.params.get("ImageName", "")
    versions = sorted(
        (v for v in section.image_versions if v.image == name), key=lambda v: v.version
    )
    if call.operation == "ListImageVersions":
        if name not in images:
            raise wire.Refused("ResourceNotFound", f"Image {name} not found")
        summaries = [
            {
                "ImageArn": f"{prefix}:image/{name}",
                "ImageVersionArn": f"{prefix}:image-version/{name}/{v.version}",
                "ImageVersionStatus": "CREATED",
                "Version": v.version,
                "CreationTime": 0,
                "LastModifiedTime": 0,
            }
            for v in versions
        ]
        return listing(summaries, "ImageVersions")
    if call.operation == "DescribeImageVersion":
        wanted = call.params.get("Version")
        for v in versions:
            if wanted is None or int(wanted) == v.version:
                return {
                    "BaseImage": v.base_image,
                    "ContainerImage": v.base_image,
                    "ImageArn": f"{prefix}:image/{name}",
                    "ImageVersionArn": f"{prefix}:image-version/{name}/{v.version}",
                    "ImageVersionStatus": "CREATED",
                    "Version": v.version,
                }
        raise wire.Refused("ResourceNotFound", f"Image version {name}/{wanted} not found")
    raise call.unserved()


def serve(request: Any, event_name: str = "", **kwargs: Any) -> AWSResponse | None:
    """Answer a SageMaker request (event_name: "before-send.sagemaker.<Operation>")."""
    return wire.serve_in_place_of_moto(request, event_name, SERVICE, _answer)
