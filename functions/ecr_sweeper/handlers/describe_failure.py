"""FailureFunction: a failure in words, for its notification and the execution's cause.

The state machine calls it from each scope's failure path, before it notifies. It reads
nothing in AWS: it turns the Catch's error and cause into the error type, the message,
the repository, what to do next and links (the failed execution, the failed function's
log lines, by the invocation's request id). If it fails, the state machine notifies the
raw error instead (the `*AsIs` Pass states): a failure is never left unsaid.
"""

import json
from typing import Any

from ecr_sweeper.core.failure_words import describe, read_failure
from ecr_sweeper.core.links import arn_parts, log_events_link, states_link
from ecr_sweeper.events import DescribedFailure, FailureEvent
from ecr_sweeper.handlers.common import env, logger, parse_event


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    failed = parse_event(FailureEvent, event)
    logger.append_keys(execution=failed.run, state=failed.state)
    failure = read_failure(failed.error, failed.cause)
    # The state -> its function's log group (template.yaml): where the stack trace is.
    log_group = json.loads(env("FUNCTION_LOG_GROUPS", "{}")).get(failed.state, "")
    partition, region = arn_parts(failed.execution_id)
    described = describe(
        failure,
        state=failed.state,
        run=failed.run,
        repository=failed.repository,
        links={
            "Execution (its steps)": states_link(failed.execution_id) or failed.execution_id,
            f"Log of {failed.state} (stack trace)": log_events_link(
                partition, region, log_group, failure.request_id
            ),
        },
    )
    logger.info("failure described", extra={"error": failure.error, "trace": failure.trace})
    return DescribedFailure(
        subject=described.subject, message=described.message, cause=described.cause
    ).model_dump()
