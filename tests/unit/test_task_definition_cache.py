"""The task definition cache and the calls the ECS and Lambda scans make."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from ecr_sweeper.adapters.aws import concurrently
from ecr_sweeper.adapters.ecs import collect_ecs_usage, family_prefix
from ecr_sweeper.adapters.lambda_functions import collect_lambda_usage
from ecr_sweeper.adapters.task_definition_cache import CACHE_KEY, TaskDefinitionCache, parse_cache
from ecr_sweeper.core.config import load_config
from ecr_sweeper.core.in_use import InUseBuilder
from sweeper_emulator.moto_patches import paging

ACCOUNT, REGION = "123456789012", "ap-northeast-1"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
BUCKET = "runs"


def config(text: str) -> Any:
    if "repositories:" not in text:
        text += 'repositories: [{name_pattern: "*", expires: 30d}]\n'
    return load_config(text)


def counted(client: Any) -> Counter[str]:
    """Count every operation the client sends."""
    calls: Counter[str] = Counter()
    client.meta.events.register("before-call.*.*", lambda model, **_: calls.update([model.name]))
    return calls


@pytest.fixture
def aws(fake_credentials: Callable[[str], None]) -> Any:
    fake_credentials(REGION)
    paging.install()  # AWS's page sizes, which moto does not apply by itself
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        yield s3, boto3.client("ecs", region_name=REGION)


def register(ecs: Any, family: str, revisions: int) -> None:
    for revision in range(1, revisions + 1):
        ecs.register_task_definition(
            family=family,
            containerDefinitions=[
                {"name": "app", "image": f"{REGISTRY}/{family}:r{revision}", "memory": 128}
            ],
        )


TWO_NEWEST = """
task_definitions: [{name_pattern: "app-*", keep_count: 2}]
repositories: [{name_pattern: "*", expires: 30d}]
"""


def scan(s3: Any, ecs: Any, text: str = TWO_NEWEST) -> tuple[Any, Any, Counter[str], Counter[str]]:
    ecs_calls, s3_calls = counted(ecs), counted(s3)
    cache = TaskDefinitionCache(s3, BUCKET).load()
    builder = InUseBuilder(ACCOUNT, REGION)
    result = collect_ecs_usage(ecs, config(text), builder, cache)
    cache.save(result.task_definitions)
    ecs.meta.events.unregister("before-call.*.*")
    s3.meta.events.unregister("before-call.*.*")
    return result, builder.build(), ecs_calls, s3_calls


def tags(in_use: Any) -> dict[str, set[str]]:
    return {repo: set(usage.tags) for repo, usage in in_use.repositories.items()}


def test_a_second_run_describes_nothing_and_finds_the_same_images(aws):
    s3, ecs = aws
    register(ecs, "app-a", 4)
    register(ecs, "app-b", 3)
    register(ecs, "other", 2)  # filtered out server-side by the prefix "app-"

    first, in_use, calls, s3_calls = scan(s3, ecs)
    assert first.described == 4 and first.cached == 0
    assert calls["DescribeTaskDefinition"] == 4
    assert calls["ListTaskDefinitions"] == 2  # one page per selected family
    assert s3_calls == Counter({"GetObject": 1, "PutObject": 1})
    assert tags(in_use) == {"app-a": {"r4", "r3"}, "app-b": {"r3", "r2"}}

    second, in_use_again, calls, s3_calls = scan(s3, ecs)
    assert second.described == 0 and second.cached == 4
    assert "DescribeTaskDefinition" not in calls
    assert s3_calls == Counter({"GetObject": 1})  # unchanged: not written again
    assert in_use_again == in_use


def test_only_a_new_revision_is_described_and_the_cache_keeps_what_the_run_needed(aws):
    s3, ecs = aws
    register(ecs, "app-a", 3)
    scan(s3, ecs)
    ecs.register_task_definition(
        family="app-a",
        containerDefinitions=[{"name": "app", "image": f"{REGISTRY}/app-a:r4", "memory": 128}],
    )
    result, in_use, calls, _ = scan(s3, ecs)
    assert result.described == 1 and result.cached == 1
    assert calls["DescribeTaskDefinition"] == 1
    assert tags(in_use) == {"app-a": {"r4", "r3"}}
    stored = json.loads(s3.get_object(Bucket=BUCKET, Key=CACHE_KEY)["Body"].read())
    assert sorted(arn.rsplit(":", 1)[1] for arn in stored["task_definitions"]) == ["3", "4"]


def test_families_and_revisions_are_listed_100_a_page(aws):
    s3, ecs = aws
    for index in range(100):
        ecs.register_task_definition(
            family=f"app-{index:03d}",
            containerDefinitions=[{"name": "c", "image": "busybox", "memory": 128}],
        )
    register(ecs, "app-big", 101)
    _, _, calls, _ = scan(s3, ecs, 'task_definitions: [{name: "app-big", keep_count: 1}]\n')
    # "app-big" as the prefix: one page of families, two pages of its 101 revisions.
    assert calls["ListTaskDefinitionFamilies"] == 1
    assert calls["ListTaskDefinitions"] == 2
    assert calls["DescribeTaskDefinition"] == 1
    _, _, calls, _ = scan(s3, ecs, 'task_definitions: [{name_pattern: "*", keep_count: 1}]\n')
    assert calls["ListTaskDefinitionFamilies"] == 2  # 101 families


def test_a_malformed_cache_is_ignored_and_replaced(aws):
    s3, ecs = aws
    register(ecs, "app-a", 2)
    s3.put_object(Bucket=BUCKET, Key=CACHE_KEY, Body=b'{"format": 1, "task_definitions": [1]}')
    result, in_use, _, _ = scan(s3, ecs)
    assert result.described == 2
    assert tags(in_use) == {"app-a": {"r1", "r2"}}
    assert len(parse_cache(s3.get_object(Bucket=BUCKET, Key=CACHE_KEY)["Body"].read())) == 2


class DeniedS3:
    """S3 that refuses everything, as without the cache/* permissions."""

    def __init__(self) -> None:
        self.calls = 0

    def _deny(self, **_: Any) -> Any:
        self.calls += 1
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "op")

    get_object = put_object = _deny


def test_a_cache_that_cannot_be_read_or_written_costs_calls_not_the_run():
    s3 = DeniedS3()
    cache = TaskDefinitionCache(s3, BUCKET).load()
    assert cache.get("arn:aws:ecs:r:1:task-definition/a:1") is None
    cache.put("arn:aws:ecs:r:1:task-definition/a:1", ["img"])
    cache.save(["arn:aws:ecs:r:1:task-definition/a:1"])  # no exception
    assert s3.calls == 2


@pytest.mark.parametrize(
    ("entries", "prefix"),
    [
        ('[{name_pattern: "app-*", keep_count: 2}]', "app-"),
        ('[{name_pattern: "app-web-*"}, {name: "app-api"}]', "app-"),
        ('[{name_pattern: "app-?x*"}]', "app-"),
        ('[{name_pattern: "app-*"}, {name_pattern: "*-worker"}]', ""),
        ('[{name: "x", keep_count: 0}, {name_pattern: "app-*"}]', "app-"),
    ],
)
def test_the_family_prefix_covers_every_entry_that_keeps_revisions(entries, prefix):
    assert family_prefix(config(f"task_definitions: {entries}\n")) == prefix


class NoCalls:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unexpected call {name}")


def test_empty_sections_list_nothing():
    text = "clusters: []\ntask_definitions: []\nlambda_functions: []\n"
    builder = InUseBuilder(ACCOUNT, REGION)
    collect_ecs_usage(NoCalls(), config(text), builder, TaskDefinitionCache.disabled())
    collect_lambda_usage(NoCalls(), config(text), builder)
    text = 'task_definitions: [{name_pattern: "*", keep_count: 0}]\n'
    collect_ecs_usage(NoCalls(), config(text), builder)
    assert builder.build().repositories == {}


def test_concurrently_keeps_the_order_and_bounds_the_calls():
    running, most = 0, 0
    lock = threading.Lock()

    def work(n: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.002 * (n % 3))
        with lock:
            running -= 1
        return n * n

    assert concurrently(work, range(40), limit=4) == [n * n for n in range(40)]
    assert 1 < most <= 4


def test_concurrently_raises_the_first_error():
    def work(n: int) -> int:
        if n in (3, 7):
            raise ValueError(n)
        return n

    with pytest.raises(ValueError, match="3"):
        concurrently(work, range(10), limit=4)
