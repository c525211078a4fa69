"""SummaryFunction: the report, and the run's verdict."""

from typing import Any

from ecr_sweeper import steps
from ecr_sweeper.events import SummaryEvent
from ecr_sweeper.handlers.common import clients, logger, parse_event


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    summary = parse_event(SummaryEvent, event)
    logger.append_keys(execution=summary.run.execution_name)
    output, _report = steps.summarize_run(summary.run, clients)
    return output.model_dump(mode="json")
