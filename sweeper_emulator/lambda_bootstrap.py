"""The artifact mode's Lambda runtime: one function's handler, from the `sam build`
output, in an interpreter of its own.

Started as `python -I -S -B lambda_bootstrap.py` (isolated: no site-packages, no user
site, no PYTHON* variables, no bytecode written), so that `sys.path` holds the standard
library and, once this file adds it, the function's artifact directory and nothing else:
an import the artifact cannot satisfy fails here as it would in Lambda. Like a warm
Lambda container, the process serves one invocation after another until the emulator
stops it or the function crashes.

What it adds around the handler, as the Lambda runtime does, and only that:
- the code directory is read-only and only the function's temporary directory is
  writable (an audit hook refuses other writes with EROFS, as Lambda's file system does);
- each request the function's own botocore sends carries two headers naming the
  operation and the function, so that the emulator's server counts it and may answer it
  with an injected fault; a fault that is a crash ends this process at that call; a
  network failure (a host AWS does not have, such as App Runner in a region without it,
  or an injected network fault) raises botocore's exception for it, as a failed DNS
  lookup or a timeout would (without botocore's retries);
- the emulator's clock (the product's `ecr_sweeper.clock.utcnow`), its compressed
  retry waits and its short Kubernetes read timeout (eks_api.py).

Protocol: one JSON request a line on stdin ({"event", "request_id", "function_arn"}),
one JSON answer a line on the file descriptor SWEEPER_EMULATOR_ANSWER_FD ({"result"} or
{"error"}, with the handler's printed output and the process's peak memory).
Standard library only until the artifact is on the path.
"""

from __future__ import annotations

import errno
import importlib
import importlib.util
import io
import json
import os
import resource
import sys
import traceback
from datetime import datetime
from typing import Any

OPERATION_HEADER = "x-sweeper-emulator-operation"
FUNCTION_HEADER = "x-sweeper-emulator-function"
CRASH_HEADER = "x-sweeper-emulator-crash"
# The emulator's answer for a request that never reaches AWS (a host AWS does not have,
# an injected network fault): "<botocore exception name> <url>", raised by the client.
NETWORK_ERROR_HEADER = "x-sweeper-emulator-network-error"

# The emulator's own variables: read, then removed before the function's code runs.
_SETTINGS = {
    name: os.environ.pop(name, "")
    for name in (
        "SWEEPER_EMULATOR_ANSWER_FD",
        "SWEEPER_EMULATOR_FUNCTION",
        "SWEEPER_EMULATOR_NOW",
        "SWEEPER_EMULATOR_RETRY_WAIT_SCALE",
        "SWEEPER_EMULATOR_RETRY_WAITS",
        "SWEEPER_EMULATOR_KUBERNETES_READ_TIMEOUT",
    )
}


class EmulatedCrash(BaseException):
    """The runtime dies at this call: a BaseException, so no `except Exception` in the
    function's code can swallow it."""


def _writable(path: str) -> bool:
    real = os.path.realpath(path)
    allowed = (os.environ["TMPDIR"], "/dev")
    return any(real == root or real.startswith(root + os.sep) for root in allowed)


_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _read_only_file_system(event: str, args: tuple[Any, ...]) -> None:
    """Lambda's file system: only /tmp is writable."""
    if event == "open":
        path, mode, flags = args
        writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & _WRITE_FLAGS
        )
        if writes and isinstance(path, str | bytes) and not _writable(os.fsdecode(path)):
            raise OSError(errno.EROFS, "Read-only file system", os.fsdecode(path))
    elif event in ("os.mkdir", "os.remove", "os.rmdir", "os.rename", "os.truncate", "os.chmod"):
        path = args[0]
        if isinstance(path, str | bytes) and not _writable(os.fsdecode(path)):
            raise OSError(errno.EROFS, "Read-only file system", os.fsdecode(path))


def _label_requests(function: str) -> None:
    """Name each request's operation and function for the emulator's server, and honour
    a crash it asks for. Registered in botocore's built-in handlers, so every session the
    function creates has them."""
    from botocore.handlers import BUILTIN_HANDLERS

    def label(request: Any, event_name: str = "", **kwargs: Any) -> None:
        parts = event_name.split(".")  # before-send.<service>.<Operation>
        if len(parts) == 3:
            request.headers[OPERATION_HEADER] = f"{parts[1]}:{parts[2]}"
            request.headers[FUNCTION_HEADER] = function

    def crash(response_dict: Any = None, **kwargs: Any) -> None:
        headers = (response_dict or {}).get("headers") or {}
        if headers.get(CRASH_HEADER):
            raise EmulatedCrash(headers[CRASH_HEADER])
        if headers.get(NETWORK_ERROR_HEADER):
            import botocore.exceptions

            name, _, url = headers[NETWORK_ERROR_HEADER].partition(" ")
            error = getattr(botocore.exceptions, name, botocore.exceptions.ConnectionError)
            raise error(endpoint_url=url)

    BUILTIN_HANDLERS.insert(0, ("before-send", label))
    BUILTIN_HANDLERS.insert(0, ("response-received", crash))


class _Context:
    """The parts of the Lambda context object the handlers and Powertools read."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = "$LATEST"
        self.invoked_function_arn = request["function_arn"]
        self.memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        self.aws_request_id = request["request_id"]
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "emulator"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def _load_handler() -> Any:
    task_root = os.environ["LAMBDA_TASK_ROOT"]
    sys.path.insert(0, task_root)
    if importlib.util.find_spec("botocore") is not None:  # else it makes no AWS calls
        _around_botocore()
    module_name, function_name = os.environ["_HANDLER"].rsplit(".", 1)
    handler = getattr(importlib.import_module(module_name), function_name)
    if _SETTINGS["SWEEPER_EMULATOR_NOW"] and importlib.util.find_spec("ecr_sweeper"):
        now = datetime.fromisoformat(_SETTINGS["SWEEPER_EMULATOR_NOW"])
        importlib.import_module("ecr_sweeper.clock").utcnow = lambda: now
    timeout = _SETTINGS["SWEEPER_EMULATOR_KUBERNETES_READ_TIMEOUT"]
    if timeout and importlib.util.find_spec("ecr_sweeper"):
        # The scan's read timeout, lowered so that a cluster that never answers fails fast.
        kubernetes_api = importlib.import_module("ecr_sweeper.adapters.kubernetes_api")
        kubernetes_api.READ_TIMEOUT_SECONDS = float(timeout)
    return handler


def _around_botocore() -> None:
    """Compressed retry waits, and each request labelled for the emulator's server."""
    if _SETTINGS["SWEEPER_EMULATOR_RETRY_WAITS"]:
        spec = importlib.util.spec_from_file_location(
            "_emulator_retry_waits", _SETTINGS["SWEEPER_EMULATOR_RETRY_WAITS"]
        )
        assert spec is not None and spec.loader is not None
        waits = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(waits)
        waits.scale_botocore_waits(float(_SETTINGS["SWEEPER_EMULATOR_RETRY_WAIT_SCALE"] or 1))
    _label_requests(_SETTINGS["SWEEPER_EMULATOR_FUNCTION"])


def _error(error: BaseException) -> dict[str, Any]:
    """What the Lambda runtime returns for an exception."""
    return {
        "errorType": type(error).__name__,
        "errorMessage": str(error),
        "stackTrace": traceback.format_exception(error)[-5:],
    }


def main() -> None:
    answers = os.fdopen(int(_SETTINGS["SWEEPER_EMULATOR_ANSWER_FD"]), "w")
    sys.addaudithook(_read_only_file_system)
    try:
        handler = _load_handler()
    except Exception as error:  # an init error fails every invocation, as in Lambda
        handler, init_error = None, _error(error)
    for line in sys.stdin:
        request = json.loads(line)
        printed = io.StringIO()
        answer: dict[str, Any] = {}
        crashed = False
        if handler is None:
            answer["error"] = init_error
        else:
            through, sys.stdout = sys.stdout, printed
            try:
                answer["result"] = handler(request["event"], _Context(request))
            except EmulatedCrash as crash:
                answer["error"] = {"errorType": str(crash), "errorMessage": "emulated crash"}
                crashed = True
            except Exception as error:
                answer["error"] = _error(error)
            finally:
                sys.stdout = through
        answer["printed"] = printed.getvalue()
        answer["peak_memory_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        answers.write(json.dumps(answer, default=str) + "\n")
        answers.flush()
        if crashed:  # the runtime died: the next invocation starts a new process
            return


if __name__ == "__main__":
    main()
