"""CollectorFunction: every image of one repository to S3."""

from typing import Any

from ecr_sweeper import steps
from ecr_sweeper.events import RepositoryEvent
from ecr_sweeper.handlers.common import clients, logger, metrics, parse_event


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    item = parse_event(RepositoryEvent, event)
    logger.append_keys(execution=item.run.execution_name, repository=item.repository)
    output = steps.collect_repository(item.repository, item.run, clients)
    metrics.add_metric(name="ImagesCollected", unit="Count", value=output.images)
    return output.model_dump(mode="json")
