"""What every handler shares: the logger, the client factory and event parsing."""

from __future__ import annotations

import os
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from pydantic import BaseModel, ValidationError

from ecr_sweeper.adapters.aws import client
from ecr_sweeper.core.messages import validation_problems
from ecr_sweeper.errors import InvalidExecutionInput

logger = Logger(service="ecr-sweeper")
# EMF metrics, namespace from POWERTOOLS_METRICS_NAMESPACE. Only low-cardinality
# dimensions (service); repository names belong in the logs, never in a dimension.
metrics = Metrics(service="ecr-sweeper")
E = TypeVar("E", bound=BaseModel)


def parse_event[E: BaseModel](model: type[E], event: Any) -> E:
    """A malformed event is a permanent error with a message, not a traceback."""
    try:
        return model.model_validate(event)
    except ValidationError as error:
        problems = "; ".join(validation_problems(error, top="event"))
        raise InvalidExecutionInput(f"malformed {model.__name__}: {problems}") from error


def clients(service: str) -> Any:
    return client(service)


def env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise InvalidExecutionInput(f"environment variable {name} is not set")
    return value
