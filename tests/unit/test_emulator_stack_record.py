"""The emulator answers CloudFormation DescribeStacks for the stack it deployed, with the
template's Outputs resolved against what it created (see docs/emulator.md)."""

from __future__ import annotations

from pathlib import Path

from samtranslator.yaml_helper import yaml_parse

from sweeper_emulator.emulator import Emulator
from sweeper_emulator.inventory import inventory_from_dict

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = yaml_parse((ROOT / "template.yaml").read_text())
ACCOUNT, REGION = "210987654321", "eu-west-1"  # not moto's default account
# Outputs of resources the emulator does not create (the queue, the IAM roles, the
# CloudWatch dashboard).
NOT_EMULATED = {"DeadLetterQueueUrl", "InUseScanRoleArn", "DashboardName"}


def test_describe_stacks_gives_the_deployed_stack_with_its_outputs() -> None:
    inventory = inventory_from_dict({"account_id": ACCOUNT, "region": REGION})
    with Emulator(inventory, parameters={"DryRun": "false"}) as emulator:
        assert emulator.stack is not None
        stack = emulator.stack
        (described,) = emulator.session.client("cloudformation").describe_stacks(
            StackName="ecr-sweeper"
        )["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}
    assert outputs == {
        "StateMachineArn": stack.state_machine_arn,
        "StateMachineName": "ecr-sweeper-sweep",
        "RunBucketName": stack.bucket,
        "NotificationTopicArn": stack.topic_arn,
        "ConfigLayerArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:ConfigLayer:1",
    }
    assert set(outputs) == set(TEMPLATE["Outputs"]) - NOT_EMULATED
    assert stack.outputs == outputs
    assert stack.state_machine_arn.startswith(f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:")
    descriptions = {o["OutputKey"]: o["Description"] for o in described["Outputs"]}
    assert descriptions["RunBucketName"] == TEMPLATE["Outputs"]["RunBucketName"]["Description"]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]}
    assert parameters["DryRun"] == "false"  # as deployed
    assert parameters["ConfigFile"] == "ecrm.yaml"  # the template's default
    assert set(parameters) == set(TEMPLATE["Parameters"])
    assert described["StackStatus"] == "CREATE_COMPLETE"
    assert described["StackId"].startswith(f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/")
