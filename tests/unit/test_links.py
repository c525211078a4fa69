"""Console links by partition: right where AWS publishes the console, absent elsewhere."""

import boto3
import pytest

from ecr_sweeper.core.links import (
    CONSOLE_HOSTS,
    NO_PUBLIC_CONSOLE,
    arn_parts,
    log_events_link,
    s3_object_link,
    s3_with_link,
    states_link,
)


def test_every_partition_botocore_knows_is_decided() -> None:
    """A new partition in botocore's data fails here until someone finds its console."""
    partitions = set(boto3.Session().get_available_partitions())
    assert partitions <= set(CONSOLE_HOSTS) | NO_PUBLIC_CONSOLE, partitions
    assert not set(CONSOLE_HOSTS) & NO_PUBLIC_CONSOLE


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("ap-northeast-1", "https://ap-northeast-1.console.aws.amazon.com"),
        ("cn-north-1", "https://console.amazonaws.cn"),
        ("us-gov-west-1", "https://console.amazonaws-us-gov.com"),
    ],
    ids=["aws", "aws-cn", "aws-us-gov"],
)
def test_execution_links_use_the_partition_of_the_arn(region: str, host: str) -> None:
    partition = boto3.Session().get_partition_for_region(region)
    arn = f"arn:{partition}:states:{region}:123456789012:execution:x-sweep:run-1"
    assert states_link(arn) == (f"{host}/states/home?region={region}#/v2/executions/details/{arn}")
    assert s3_object_link(partition, region, "b", "runs/r/report.md") == (
        f"{host}/s3/object/b?region={region}&prefix=runs/r/report.md"
    )


@pytest.mark.parametrize("region", ["eu-isoe-west-1", "us-iso-east-1", "us-isob-east-1"])
def test_no_link_where_the_console_host_is_not_public(region: str) -> None:
    partition = boto3.Session().get_partition_for_region(region)
    arn = f"arn:{partition}:states:{region}:123456789012:execution:x-sweep:run-1"
    assert states_link(arn) == ""
    # The s3:// URI alone, never a link that goes nowhere.
    assert s3_with_link(partition, region, "b", "k.md") == "s3://b/k.md"


def test_map_runs_and_child_executions_have_their_own_pages() -> None:
    map_run = "arn:aws:states:us-east-1:1:mapRun:x-sweep/plan:abc"
    child = "arn:aws:states:us-east-1:1:execution:x-sweep/plan:abc"
    assert "#/v2/map-run/details/" + map_run in states_link(map_run)
    assert "#/v2/executions/details/" + child in states_link(child)


def test_the_s3_link_sits_beside_the_uri() -> None:
    text = s3_with_link("aws", "us-east-1", "b", "runs/a b/report.md")
    assert text.startswith("s3://b/runs/a b/report.md (https://us-east-1.console.aws.amazon.com/")
    assert text.endswith("prefix=runs/a%20b/report.md)")


def test_the_log_link_filters_by_the_request_id() -> None:
    link = log_events_link("aws", "eu-west-1", "/aws/lambda/s-DeleterFunction", "req-1")
    assert link.startswith("https://eu-west-1.console.aws.amazon.com/cloudwatch/home?")
    assert "log-group/$252Faws$252Flambda$252Fs-DeleterFunction/log-events" in link
    assert link.endswith("$3FfilterPattern$3D$2522req-1$2522")
    assert log_events_link("aws-iso-e", "eu-isoe-west-1", "/aws/lambda/x") == ""


def test_arn_parts_refuses_what_is_not_an_arn() -> None:
    assert arn_parts("not an arn") == ("", "")
    assert arn_parts("arn:aws-cn:states:cn-north-1:1:execution:a:b") == ("aws-cn", "cn-north-1")
