"""CapsFunction: between planning and deleting, the run-wide safety caps."""

from typing import Any

from ecr_sweeper import steps
from ecr_sweeper.events import SummaryEvent
from ecr_sweeper.handlers.common import clients, logger, metrics, parse_event


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    run = parse_event(SummaryEvent, event).run
    logger.append_keys(execution=run.execution_name)
    caps = steps.check_caps(run, clients)
    metrics.add_metric(name="DeletionsPlanned", unit="Count", value=caps["planned"])
    metrics.add_metric(name="RepositoriesHeld", unit="Count", value=caps["held"])
    return caps
