"""The protect tag of every repository in one paged call (the Tagging API), as the
emulator serves it: every repository it protects is found, across pages, whatever the
case of "true", and a failed call fails the scan rather than protect nothing."""

from __future__ import annotations

from collections.abc import Callable

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from ecr_sweeper.adapters.ecr import PROTECT_TAG_KEY
from ecr_sweeper.adapters.resource_tags import protected_repositories, repository_name
from ecr_sweeper.errors import AwsRequestError, TransientAwsError
from sweeper_emulator import served

REGION = "eu-west-1"


def test_every_protected_repository_is_found_across_pages(
    fake_credentials: Callable[[str], None],
) -> None:
    fake_credentials(REGION)
    served.install()
    with mock_aws():
        ecr = boto3.client("ecr", region_name=REGION)
        values = {}
        for n in range(250):  # three pages of 100 once those without the key are left out
            name = f"team-{n % 7}/svc-{n:03d}"
            ecr.create_repository(repositoryName=name)
            value = ("true", "TRUE", "True", "false", "no", None)[n % 6]
            if value is not None:
                arn = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
                ecr.tag_resource(
                    resourceArn=arn["repositoryArn"],
                    tags=[{"Key": PROTECT_TAG_KEY, "Value": value}, {"Key": "team", "Value": "x"}],
                )
            values[name] = value
        # Another tag only, and another region: neither is protected here.
        ecr.create_repository(repositoryName="other", tags=[{"Key": "team", "Value": "x"}])
        boto3.client("ecr", region_name="us-east-1").create_repository(
            repositoryName="elsewhere", tags=[{"Key": PROTECT_TAG_KEY, "Value": "true"}]
        )
        client = boto3.client("resourcegroupstaggingapi", region_name=REGION)
        pages: list[int] = []
        client.meta.events.register(
            "after-call.resource-groups-tagging-api.GetResources",
            lambda parsed, **_: pages.append(len(parsed["ResourceTagMappingList"])),
        )

        protected = protected_repositories(client)

    assert set(protected) == {n for n, v in values.items() if v and v.lower() == "true"}
    assert set(protected.values()) == {f"repository tag {PROTECT_TAG_KEY}=true"}
    # Only the repositories with the key are listed, 100 a page.
    keyed = sum(1 for v in values.values() if v is not None)
    assert keyed > 200
    assert pages == [100, 100, keyed - 200]


def test_repository_name_keeps_its_slashes() -> None:
    arn = "arn:aws-cn:ecr:cn-north-1:123456789012:repository/a/b/c"
    assert repository_name(arn) == "a/b/c"


@pytest.mark.parametrize("code", ["AccessDeniedException", "ThrottlingException"])
def test_a_failed_call_fails_the_scan(code: str) -> None:
    client = boto3.client(
        "resourcegroupstaggingapi",
        region_name=REGION,
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    with Stubber(client) as stub:
        stub.add_client_error("get_resources", service_error_code=code)
        with pytest.raises(Exception) as raised:
            protected_repositories(client)
    # Classified (the state machine routes on the type): never an empty set that would
    # let a protected repository be planned.
    assert isinstance(raised.value, AwsRequestError | TransientAwsError)
