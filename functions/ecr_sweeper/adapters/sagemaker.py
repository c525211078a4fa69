"""Amazon SageMaker as a source of "in use": models, jobs in progress, Studio images.

Kept: the images of every model (`PrimaryContainer.Image` and `Containers[].Image`: an
endpoint config can name any model, and an endpoint scaling out pulls its model's image
again), of training jobs and processing jobs in progress, and the base images of every
version of every Studio custom image.

Calls:

* ListModels (100 a page, its maximum), then DescribeModel per model;
* ListTrainingJobs and ListProcessingJobs with StatusEquals InProgress (100 a page),
  then DescribeTrainingJob / DescribeProcessingJob per job;
* ListImages (100 a page), ListImageVersions per image (100 a page), then
  DescribeImageVersion per version.

SageMaker has no batch describe: the describe calls run concurrently (at most
DESCRIBE_CONCURRENCY at a time). A resource deleted between the listing and its
describe (SageMaker answers ResourceNotFound, or ValidationException "Could not find")
uses nothing. Every other API error goes through `classify`.

Transform jobs are not read: a transform job runs its model's containers, and every
model is read; DescribeTransformJob shows the model's name, not an image.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ecr_sweeper.adapters.aws import classify, concurrently, paged
from ecr_sweeper.core.in_use import InUseBuilder, PlaceBuilder

SOURCE = "sagemaker"
PAGE_SIZE = 100  # ListModels', List*Jobs', ListImages' and ListImageVersions' maximum


@dataclass(frozen=True)
class _JobKind:
    """A kind of SageMaker job whose image is in use while it is in progress."""

    kind: str  # as users read it: "training-job"
    list_call: str
    list_key: str
    name_key: str  # the job's name, in the listing and as the describe's parameter
    describe_call: str
    describe_action: str
    spec_key: str  # where the describe answer keeps the image
    image_key: str


JOBS_IN_PROGRESS = (
    _JobKind(
        "training-job",
        "list_training_jobs",
        "TrainingJobSummaries",
        "TrainingJobName",
        "describe_training_job",
        "DescribeTrainingJob",
        "AlgorithmSpecification",
        "TrainingImage",
    ),
    _JobKind(
        "processing-job",
        "list_processing_jobs",
        "ProcessingJobSummaries",
        "ProcessingJobName",
        "describe_processing_job",
        "DescribeProcessingJob",
        "AppSpecification",
        "ImageUri",
    ),
)


def _gone(error: ClientError) -> bool:
    details = error.response.get("Error", {})
    code, message = details.get("Code", ""), str(details.get("Message", ""))
    return code == "ResourceNotFound" or (
        code == "ValidationException" and "could not find" in message.lower()
    )


def _describe(sagemaker: Any, operation: str, doing: str, **kwargs: Any) -> dict[str, Any] | None:
    try:
        return dict(getattr(sagemaker, operation)(**kwargs))
    except ClientError as error:
        if _gone(error):
            return None  # deleted since it was listed: it uses nothing
        raise classify(error, f"sagemaker:{doing}") from error


def model_images(model: dict[str, Any]) -> Iterator[str]:
    for container in [model.get("PrimaryContainer") or {}, *(model.get("Containers") or [])]:
        if container.get("Image"):
            yield container["Image"]


def _each(
    names: list[str], describe: Callable[[str], dict[str, Any] | None]
) -> list[tuple[str, dict[str, Any]]]:
    described = concurrently(describe, names)
    return [(name, d) for name, d in zip(names, described, strict=True) if d is not None]


def collect_sagemaker_usage(
    sagemaker: Any, builder: InUseBuilder | PlaceBuilder, source: str = SOURCE
) -> None:
    models = sorted({m["ModelName"] for m in paged(sagemaker, "list_models", "Models", PAGE_SIZE)})
    for name, model in _each(
        models,
        lambda n: _describe(sagemaker, "describe_model", "DescribeModel", ModelName=n),
    ):
        for image in model_images(model):
            builder.add(image, f"sagemaker:model/{name}", source)

    for job in JOBS_IN_PROGRESS:
        names = sorted(
            {
                j[job.name_key]
                for j in paged(
                    sagemaker, job.list_call, job.list_key, PAGE_SIZE, StatusEquals="InProgress"
                )
            }
        )
        for name, described in _each(
            names,
            lambda n, job=job: _describe(
                sagemaker, job.describe_call, job.describe_action, **{job.name_key: n}
            ),
        ):
            image = (described.get(job.spec_key) or {}).get(job.image_key)
            if image:
                builder.add(image, f"sagemaker:{job.kind}/{name}", source)

    image_names = sorted(
        {i["ImageName"] for i in paged(sagemaker, "list_images", "Images", PAGE_SIZE)}
    )
    versions = [
        (name, int(v["Version"]))
        for name, listed in zip(
            image_names,
            concurrently(
                lambda n: paged(
                    sagemaker, "list_image_versions", "ImageVersions", PAGE_SIZE, ImageName=n
                ),
                image_names,
            ),
            strict=True,
        )
        for v in listed
        if v.get("Version") is not None
    ]
    described = concurrently(
        lambda version: _describe(
            sagemaker,
            "describe_image_version",
            "DescribeImageVersion",
            ImageName=version[0],
            Version=version[1],
        ),
        versions,
    )
    for (name, number), version in zip(versions, described, strict=True):
        for image in {(version or {}).get("BaseImage"), (version or {}).get("ContainerImage")}:
            if image:
                builder.add(image, f"sagemaker:image/{name}:{number}", source)
