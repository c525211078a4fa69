"""The emulator's own App Runner (moto has none): it answers only the calls it serves,
each emulated account starts without the last one's services, and the emulator's fault
injection reaches it like any other service."""

from __future__ import annotations

from collections import Counter

import boto3
import pytest

from ecr_sweeper.adapters.app_runner import collect_app_runner_usage
from ecr_sweeper.core.in_use import InUseBuilder
from ecr_sweeper.errors import AwsRequestError
from sweeper_emulator.faults import CALLS, HANDLER_ACCESS_KEY

ACCOUNT, REGION = "123456789012", "ap-northeast-1"


def test_the_emulators_app_runner_answers_only_what_it_serves(emulated):
    with emulated({}) as aws:
        apprunner = aws.client("apprunner")
        assert apprunner.list_services()["ServiceSummaryList"] == []
        with pytest.raises(apprunner.exceptions.ResourceNotFoundException):
            apprunner.describe_service(
                ServiceArn=f"arn:aws:apprunner:{REGION}:{ACCOUNT}:service/none/0123"
            )
        with pytest.raises(apprunner.exceptions.InvalidRequestException):
            apprunner.list_connections()


def test_each_emulated_account_starts_without_the_last_ones_services(emulated):
    with emulated({"app_runner": {"services": [{"name": "a", "image": "x"}]}}) as aws:
        assert len(aws.client("apprunner").list_services()["ServiceSummaryList"]) == 1
    with emulated({}) as aws:
        assert aws.client("apprunner").list_services()["ServiceSummaryList"] == []


def test_emulator_faults_reach_the_emulated_app_runner(emulated):
    inventory = {
        "app_runner": {"services": [{"name": "a", "image": "x"}]},
        "faults": [{"operation": "apprunner:ListServices", "error": "AccessDeniedException"}],
    }
    with emulated(inventory):
        # The handlers' credentials: only their calls count and meet faults.
        apprunner = boto3.client(
            "apprunner",
            region_name=REGION,
            aws_access_key_id=HANDLER_ACCESS_KEY,
            aws_secret_access_key="x",
        )
        with pytest.raises(AwsRequestError, match="AccessDeniedException"):
            collect_app_runner_usage(apprunner, InUseBuilder(ACCOUNT, REGION))
        assert CALLS.calls == Counter({"apprunner:ListServices": 1})
