"""CapsFunction: between planning and deleting, the run-wide safety caps and the list of
plans the sweep may act on."""

from typing import Any

from pydantic import ValidationError

from ecr_sweeper import run_lock, steps
from ecr_sweeper.adapters.map_results import read_child_results
from ecr_sweeper.errors import RunDataError
from ecr_sweeper.events import CapsEvent, PlanOutcome
from ecr_sweeper.handlers.common import clients, logger, metrics, parse_event


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    caps_event = parse_event(CapsEvent, event)
    run = caps_event.run
    logger.append_keys(execution=run.execution_name)
    if not run.dry_run and run.execution_arn:
        # Again, just before anything is deleted: a deleting run of another stack that
        # started before this one, and that the scan did not see yet (Step Functions
        # lists executions eventually), has been running for the whole planning phase.
        run_lock.refuse_if_another_stack_deletes(clients("stepfunctions"), run.execution_arn)
    # What each evaluator returned, as Step Functions recorded it.
    children = read_child_results(clients("s3"), caps_event.plan_results, run.bucket)
    try:
        outcomes = [PlanOutcome.model_validate(output) for output in children.succeeded]
    except ValidationError as error:
        raise RunDataError(f"the plan Map's results are malformed: {error}") from error
    caps = steps.check_caps(run, outcomes, clients)
    metrics.add_metric(name="DeletionsPlanned", unit="Count", value=caps.planned)
    metrics.add_metric(name="RepositoriesHeld", unit="Count", value=caps.held)
    return caps.model_dump(mode="json")
