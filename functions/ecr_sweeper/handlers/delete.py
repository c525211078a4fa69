"""DeleterFunction: delete what the approved plan says (nothing in a dry run)."""

import os
from typing import Any

from ecr_sweeper import steps
from ecr_sweeper.events import DeleteEvent
from ecr_sweeper.handlers.common import clients, logger, metrics, parse_event


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    item = parse_event(DeleteEvent, event)
    logger.append_keys(execution=item.run.execution_name, repository=item.repository)
    output = steps.delete_repository(
        item,
        clients,
        account_id=context.invoked_function_arn.split(":")[4],
        region=os.environ.get("AWS_REGION", ""),
    )
    if item.run.dry_run:
        metrics.add_metric(name="ImagesPlanned", unit="Count", value=output.deleted)
        metrics.add_metric(name="ImagesPlannedForArchive", unit="Count", value=output.archived)
    else:
        metrics.add_metric(name="ImagesDeleted", unit="Count", value=output.deleted)
        metrics.add_metric(name="BytesReclaimed", unit="Bytes", value=output.bytes_reclaimed)
        metrics.add_metric(name="ImagesArchived", unit="Count", value=output.archived)
        metrics.add_metric(name="BytesArchived", unit="Bytes", value=output.bytes_archived)
    return output.model_dump(mode="json")
