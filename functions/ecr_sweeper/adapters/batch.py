"""AWS Batch as a source of "in use": job definitions, and the jobs waiting or running.

Kept: per job definition name, the newest `keep_count` ACTIVE revisions, and every job
definition (whatever its status) that a job in SUBMITTED, PENDING, RUNNABLE, STARTING or
RUNNING uses, together with the images that job itself shows (an EKS job can override a
container's image).

Calls:

* DescribeJobDefinitions, status ACTIVE (100 a page);
* DescribeJobQueues (100 a page), then per queue ListJobs for each of the five statuses
  (1,000 a page, ListJobs' most with a status filter);
* DescribeJobs for those jobs (100 a call);
* DescribeJobDefinitions by ARN (100 a call) only for the job definitions of those jobs
  that the ACTIVE listing did not hold (deregistered while a job still used them).

The per-queue listings and the describe calls run concurrently (at most
DESCRIBE_CONCURRENCY at a time). Every API error goes through `classify`.

Images are read from `containerProperties` (`container` in a job), `nodeProperties.
nodeRangeProperties[]` (their `container`, `ecsProperties` and `eksProperties`),
`ecsProperties.taskProperties[].containers[]` and `eksProperties.podProperties`
`containers[]` and `initContainers[]`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

from botocore.exceptions import ClientError

from ecr_sweeper.adapters.aws import classify, concurrently
from ecr_sweeper.adapters.ecr import chunks
from ecr_sweeper.core.in_use import InUseBuilder

SOURCE = "batch"
DEFAULT_KEEP_COUNT = 5
JOB_DEFINITIONS_PAGE_SIZE = 100  # DescribeJobDefinitions' maximum
JOB_QUEUES_PAGE_SIZE = 100  # DescribeJobQueues' maximum
JOBS_PAGE_SIZE = 1000  # ListJobs' maximum with a jobStatus filter
DESCRIBE_JOBS_BATCH = 100  # DescribeJobs takes 100 jobs at a time
DESCRIBE_JOB_DEFINITIONS_BATCH = 100  # DescribeJobDefinitions takes 100 ARNs at a time
ACTIVE_JOB_STATUSES = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING")


def _pages(batch: Any, operation: str, key: str, page_size: int, **kwargs: Any) -> list[Any]:
    try:
        return [
            item
            for page in batch.get_paginator(operation).paginate(
                **kwargs, PaginationConfig={"PageSize": page_size}
            )
            for item in page.get(key, [])
        ]
    except ClientError as error:
        raise classify(error, f"batch:{operation}") from error


def _call(batch: Any, operation: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    try:
        return list(getattr(batch, operation)(**kwargs).get(key, []))
    except ClientError as error:
        raise classify(error, f"batch:{operation}") from error


def images(properties: Mapping[str, Any]) -> Iterator[str]:
    """Every container image of a job definition, a job (DescribeJobs) or a node range."""
    container = properties.get("containerProperties") or properties.get("container") or {}
    if container.get("image"):
        yield container["image"]
    for node_range in (properties.get("nodeProperties") or {}).get("nodeRangeProperties") or []:
        yield from images(node_range)
    for task in (properties.get("ecsProperties") or {}).get("taskProperties") or []:
        for task_container in task.get("containers") or []:
            if task_container.get("image"):
                yield task_container["image"]
    pod = (properties.get("eksProperties") or {}).get("podProperties") or {}
    for key in ("initContainers", "containers"):
        for pod_container in pod.get(key) or []:
            if pod_container.get("image"):
                yield pod_container["image"]


def job_definition_used_by(definition: Mapping[str, Any]) -> str:
    return f"batch:job-definition/{definition['jobDefinitionName']}:{definition['revision']}"


def newest_revisions(definitions: list[dict[str, Any]], keep_count: int) -> list[dict[str, Any]]:
    """The newest `keep_count` revisions of each name, names in order, newest first."""
    by_name: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    for definition in definitions:
        by_name[definition["jobDefinitionName"]].append(definition)
    kept: list[dict[str, Any]] = []
    for name in sorted(by_name):
        revisions = sorted(by_name[name], key=lambda d: int(d["revision"]), reverse=True)
        kept.extend(revisions[: max(keep_count, 0)])
    return kept


def collect_batch_usage(
    batch: Any,
    builder: InUseBuilder,
    keep_count: int = DEFAULT_KEEP_COUNT,
    source: str = SOURCE,
) -> None:
    """Add the images of the newest job definitions and of every waiting or running job."""
    active = _pages(
        batch,
        "describe_job_definitions",
        "jobDefinitions",
        JOB_DEFINITIONS_PAGE_SIZE,
        status="ACTIVE",
    )
    by_arn = {d["jobDefinitionArn"]: d for d in active if d.get("jobDefinitionArn")}

    # 1. The jobs still to finish, in every queue.
    queues = sorted(
        q["jobQueueArn"]
        for q in _pages(batch, "describe_job_queues", "jobQueues", JOB_QUEUES_PAGE_SIZE)
        if q.get("jobQueueArn")
    )
    listings = [(queue, status) for queue in queues for status in ACTIVE_JOB_STATUSES]

    def listing(job: tuple[str, str]) -> list[dict[str, Any]]:
        queue, status = job
        return _pages(
            batch, "list_jobs", "jobSummaryList", JOBS_PAGE_SIZE, jobQueue=queue, jobStatus=status
        )

    summaries: dict[str, dict[str, Any]] = {}
    for summaries_of_one in concurrently(listing, listings):
        for summary in summaries_of_one:
            summaries.setdefault(summary["jobId"], summary)
    job_ids = sorted(summaries)
    details_batches = concurrently(
        lambda ids: _call(batch, "describe_jobs", "jobs", jobs=list(ids)),
        list(chunks(job_ids, DESCRIBE_JOBS_BATCH)),
    )
    details = {d["jobId"]: d for batch_of in details_batches for d in batch_of if d.get("jobId")}

    # 2. The job definitions those jobs use that the ACTIVE listing did not return.
    used: dict[str, str] = {}  # job definition ARN -> first job (by id) using it
    for job_id in job_ids:
        arn = (details.get(job_id) or {}).get("jobDefinition") or summaries[job_id].get(
            "jobDefinition"
        )
        if arn:
            used.setdefault(arn, job_id)
    missing = sorted(arn for arn in used if arn not in by_arn)
    for described in concurrently(
        lambda arns: _call(
            batch, "describe_job_definitions", "jobDefinitions", jobDefinitions=list(arns)
        ),
        list(chunks(missing, DESCRIBE_JOB_DEFINITIONS_BATCH)),
    ):
        for definition in described:
            by_arn.setdefault(definition["jobDefinitionArn"], definition)

    # 3. Add, in a fixed order: kept revisions, the jobs' job definitions, the jobs.
    for definition in newest_revisions(active, keep_count):
        for image in images(definition):
            builder.add(image, job_definition_used_by(definition), source)
    for arn in sorted(used):
        definition = by_arn.get(arn)
        if definition is not None:
            for image in images(definition):
                builder.add(image, job_definition_used_by(definition), source)
    for job_id in job_ids:
        detail = details.get(job_id) or {}
        queue = (detail.get("jobQueue") or "?").rsplit("/", 1)[-1]
        for image in images(detail):
            builder.add(image, f"batch:job/{queue}/{job_id}", source)
