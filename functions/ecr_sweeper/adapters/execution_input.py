"""The execution input, as the user sent it.

The state machine hands the scan the input already parsed, where a key written twice
has become one value. DescribeExecution (on the scan's own execution: its role may
describe only this state machine's executions) returns the text itself.

Calls: states:DescribeExecution, once per run.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ecr_sweeper.adapters.aws import classify
from ecr_sweeper.errors import InvalidExecutionInput


def execution_input_text(sfn: Any, execution_arn: str) -> str:
    try:
        description = sfn.describe_execution(executionArn=execution_arn)
    except ClientError as error:
        raise classify(error, f"reading the input of {execution_arn}") from error
    text = description.get("input")
    if not isinstance(text, str):
        # Refuse to guess what the user asked for.
        raise InvalidExecutionInput(
            f"DescribeExecution returned no input for {execution_arn}: cannot check it"
        )
    return text
