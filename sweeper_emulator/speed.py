"""Emulator speed: moto's state machine interpreter reuses its Lambda clients.

moto's interpreter creates a new boto3 client for every Lambda task it runs. Creating
a client costs more than the emulated invocation behind it, so in a run of thousands
of child executions it was the largest cost of the emulator after the handlers
themselves. `install()` keeps one client per region (and per interception mode, as
moto chooses the endpoint by it). The calls, their order and their answers are the same.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.core.models import botocore_stubber
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

_original = lambda_eval_utils.boto_client_for
_clients: dict[tuple[str, str, bool], Any] = {}
_lock = threading.Lock()


def _cached_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    key = (region, service, bool(botocore_stubber.enabled))
    with _lock:
        if key not in _clients:
            _clients[key] = _original(
                region=region, service=service, state_credentials=state_credentials
            )
        return _clients[key]


def install() -> None:
    lambda_eval_utils.boto_client_for = _cached_client_for
