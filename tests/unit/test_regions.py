"""Whether a region offers a service comes from botocore's region data, and only where
that data can tell: elsewhere the source is read, and an error there fails the run."""

import boto3
import pytest

from ecr_sweeper.adapters.regions import offered


@pytest.mark.parametrize(
    ("service", "region", "expected"),
    [
        pytest.param("apprunner", "eu-west-1", True, id="listed"),
        pytest.param("apprunner", "ca-central-1", False, id="known-region-not-listed"),
        pytest.param("apprunner", "cn-north-1", False, id="not-in-the-china-partition"),
        pytest.param("ecs", "cn-north-1", True, id="listed-in-the-china-partition"),
        pytest.param("apprunner", "xx-future-1", True, id="a-region-botocore-does-not-know"),
        pytest.param("iam", "us-east-1", True, id="a-global-service-has-no-regional-data"),
    ],
)
def test_a_service_is_not_offered_only_where_botocore_says_so(
    service: str, region: str, expected: bool
) -> None:
    assert offered(service, region) is expected


def test_every_region_botocore_lists_for_a_source_offers_it() -> None:
    session = boto3.Session()
    for service in ("ecs", "lambda", "events", "scheduler", "batch", "apprunner"):
        for region in session.get_available_regions(service):
            assert offered(service, region), (service, region)
