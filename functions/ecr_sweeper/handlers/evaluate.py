"""EvaluatorFunction: the plan for one repository (keep or delete, and why)."""

from typing import Any

from ecr_sweeper import steps
from ecr_sweeper.events import RepositoryEvent
from ecr_sweeper.handlers.common import clients, logger, metrics, parse_event


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    item = parse_event(RepositoryEvent, event)
    logger.append_keys(execution=item.run.execution_name, repository=item.repository)
    output = steps.evaluate_repository(
        item.repository,
        item.run,
        clients,
        images_sha256=item.images_sha256,
        images_inline=item.images_inline,
    )
    metrics.add_metric(name="ImagesExpired", unit="Count", value=output.expired.count)
    metrics.add_metric(name="ImagesKept", unit="Count", value=output.keep.count)
    return output.model_dump(mode="json")
