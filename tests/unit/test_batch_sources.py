"""The Batch adapter keeps the newest job definition revisions and those that queued or
running jobs use, and reads the images of every kind of job definition."""

from __future__ import annotations

from collections import Counter

from ecr_sweeper.adapters.batch import collect_batch_usage, images
from ecr_sweeper.core.in_use import InUseBuilder

ACCOUNT, REGION = "123456789012", "ap-northeast-1"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"


def uri(repository: str, tag: str) -> str:
    return f"{REGISTRY}/{repository}:{tag}"


BATCH = {
    "job_definitions": [
        *({"name": "etl", "revision": r, "images": [uri("etl", f"r{r}")]} for r in range(1, 8)),
        {"name": "old", "revision": 1, "images": [uri("old", "r1")], "status": "INACTIVE"},
        {"name": "old", "revision": 2, "images": [uri("old", "r2")], "status": "INACTIVE"},
        {"name": "pod", "revision": 1, "images": [uri("pod", "init"), uri("pod", "main")]},
    ],
    "jobs": [
        {"queue": "high", "job_definition": "etl:1", "status": "RUNNING"},
        {"queue": "high", "job_definition": "etl:2", "status": "SUCCEEDED"},  # done: not kept
        {"queue": "low", "job_definition": "old:1", "status": "RUNNABLE"},  # INACTIVE, queued
        {"queue": "low", "job_definition": "etl:7", "status": "SUBMITTED"},
    ],
}


def tag_sets(builder: InUseBuilder) -> dict[str, set[str]]:
    return {repo: set(usage.tags) for repo, usage in builder.build().repositories.items()}


def test_batch_keeps_the_newest_revisions_and_those_of_queued_or_running_jobs(emulated):
    with emulated({"batch": BATCH}) as aws:
        batch = aws.client("batch")
        calls: Counter[str] = Counter()
        batch.meta.events.register("before-call.*.*", lambda model, **_: calls.update([model.name]))
        builder = InUseBuilder(ACCOUNT, REGION)
        collect_batch_usage(batch, builder, keep_count=5)
    assert tag_sets(builder) == {
        "etl": {"r1", "r3", "r4", "r5", "r6", "r7"},  # newest five, and r1 (running)
        "old": {"r1"},  # deregistered, but a queued job still uses it
        "pod": {"init", "main"},  # an EKS pod: init containers too
    }
    in_use = builder.build().repositories
    assert in_use["etl"].tags["r1"] == ["batch:job-definition/etl:1"]
    assert in_use["old"].tags["r1"] == ["batch:job-definition/old:1"]
    assert calls == Counter(
        {
            "DescribeJobDefinitions": 2,  # ACTIVE; then old:1 by ARN
            "DescribeJobQueues": 1,
            "ListJobs": 10,  # two queues, five statuses
            "DescribeJobs": 1,
        }
    )


def test_batch_keep_count_zero_keeps_only_what_jobs_use(emulated):
    with emulated({"batch": BATCH}) as aws:
        builder = InUseBuilder(ACCOUNT, REGION)
        collect_batch_usage(aws.client("batch"), builder, keep_count=0)
    assert tag_sets(builder) == {"etl": {"r1", "r7"}, "old": {"r1"}}


def test_batch_images_of_every_kind_of_job_definition_and_job():
    definition = {
        "containerProperties": {"image": "a"},
        "nodeProperties": {
            "nodeRangeProperties": [
                {"container": {"image": "node"}},
                {"ecsProperties": {"taskProperties": [{"containers": [{"image": "node-ecs"}]}]}},
                {"eksProperties": {"podProperties": {"containers": [{"image": "node-eks"}]}}},
            ]
        },
        "ecsProperties": {"taskProperties": [{"containers": [{"image": "e1"}, {"image": "e2"}]}]},
        "eksProperties": {
            "podProperties": {"initContainers": [{"image": "init"}], "containers": [{"image": "k"}]}
        },
    }
    assert list(images(definition)) == [
        "a",
        "node",
        "node-ecs",
        "node-eks",
        "e1",
        "e2",
        "init",
        "k",
    ]
    assert list(images({"container": {"image": "job"}})) == ["job"]  # a DescribeJobs job
    assert list(images({})) == []
