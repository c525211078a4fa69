"""The App Runner adapter counts only services whose source is an ECR image, reads every
page, and skips a service deleted between ListServices and DescribeService."""

from __future__ import annotations

from collections import Counter

import boto3
from botocore.stub import Stubber

from ecr_sweeper.adapters.app_runner import collect_app_runner_usage
from ecr_sweeper.core.in_use import IGNORED_NOT_ECR, InUseBuilder

ACCOUNT, REGION = "123456789012", "ap-northeast-1"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"


def uri(repository: str, tag: str) -> str:
    return f"{REGISTRY}/{repository}:{tag}"


def test_app_runner_only_ecr_sources_count(emulated):
    services = [
        {"name": "api", "image": uri("api", "v7")},
        {"name": "paused", "image": uri("paused", "v1"), "status": "PAUSED"},
        {"name": "public", "image": "public.ecr.aws/nginx/nginx:1"},  # ECR_PUBLIC
        {"name": "code"},  # a code repository
        {"name": "deleted", "image": uri("deleted", "v1"), "status": "DELETED"},
        *({"name": f"filler-{i}"} for i in range(20)),  # a second ListServices page
    ]
    with emulated({"app_runner": {"services": services}}) as aws:
        apprunner = aws.client("apprunner")
        calls: Counter[str] = Counter()
        apprunner.meta.events.register(
            "before-call.*.*", lambda model, **_: calls.update([model.name])
        )
        builder = InUseBuilder(ACCOUNT, REGION)
        collect_app_runner_usage(apprunner, builder)
    in_use = builder.build()
    assert {repo: dict(usage.tags) for repo, usage in in_use.repositories.items()} == {
        "api": {"v7": ["apprunner:service/api"]},
        "paused": {"v1": ["apprunner:service/paused"]},
    }
    assert IGNORED_NOT_ECR not in in_use.ignored  # ECR Public is not even offered
    assert calls == Counter({"ListServices": 2, "DescribeService": 24})


def test_a_service_deleted_between_list_and_describe_is_skipped():
    apprunner = boto3.client(
        "apprunner", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    arn = f"arn:aws:apprunner:{REGION}:{ACCOUNT}:service/gone/0123"
    with Stubber(apprunner) as stub:
        stub.add_response(
            "list_services",
            {"ServiceSummaryList": [{"ServiceArn": arn, "ServiceName": "gone"}]},
        )
        stub.add_client_error("describe_service", service_error_code="ResourceNotFoundException")
        builder = InUseBuilder(ACCOUNT, REGION)
        collect_app_runner_usage(apprunner, builder)
    assert builder.build().repositories == {}
