"""DeleterFunction: delete what the plan says (nothing in a dry run)."""

from typing import Any

from ecr_sweeper import steps
from ecr_sweeper.events import RepositoryEvent
from ecr_sweeper.handlers.common import clients, logger, parse_event


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    item = parse_event(RepositoryEvent, event)
    logger.append_keys(execution=item.run.execution_name, repository=item.repository)
    return steps.delete_repository(item.repository, item.run, clients).model_dump(mode="json")
