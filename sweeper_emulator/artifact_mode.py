"""The artifact mode: every Lambda invocation runs the function's handler from the
`sam build` output, in an interpreter process of its own, and the handler's own boto3
and botocore talk to the emulated account over HTTP.

The emulated account is moto's server on 127.0.0.1 (an ephemeral port), run in the
emulator's process, so it shares the account with the state machine and with the
emulator's own setup. In front of moto, the server does for these processes what the
in-process mode does at botocore's `before-send` hook: it counts each call of each
function, answers an injected fault in place of AWS (a crash ends the function's
process at that call), enforces the scanner roles' trust, and serves what moto lacks
(served/: App Runner, Inspector's ListCoverage, and what the in-use scan reads of
CodeBuild, SageMaker, EMR Serverless, AgentCore and Lightsail, and the Tagging API's
GetResources for ECR; what moto's own services
lack is added to them, as for ECS service revisions). The function's process is started
by lambda_bootstrap.py, which plays the Lambda runtime.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import EndpointConnectionError
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request

from sweeper_emulator import faults, served
from sweeper_emulator.lambda_bootstrap import (
    CRASH_HEADER,
    FUNCTION_HEADER,
    NETWORK_ERROR_HEADER,
    OPERATION_HEADER,
)
from sweeper_emulator.served.eks_api import CLIENT_READ_TIMEOUT

BOOTSTRAP = Path(__file__).with_name("lambda_bootstrap.py")
RETRY_WAITS = Path(__file__).with_name("retry_waits.py")
_SCOPE = re.compile(r"Credential=[^/]+/[0-9]+/([a-z0-9-]+)/([a-z0-9-]+)/")


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """One line a request on stderr would drown the run's output."""


@dataclass
class _ServedRequest:
    """What a `before-send` handler reads of a request: url, headers, body."""

    url: str
    headers: Any
    body: bytes


class EmulatorServer:
    """moto's server mode on 127.0.0.1, with the emulator's counting, faults and
    served APIs in front of it."""

    def __init__(self) -> None:
        from moto.server import DomainDispatcherApplication, create_backend_app

        self._moto = DomainDispatcherApplication(create_backend_app)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True, request_handler=_Quiet)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        operation = request.headers.get(OPERATION_HEADER)
        if not operation:  # not a function's call (none other reaches this server)
            return self._moto(environ, start_response)
        body = request.get_data()
        environ["wsgi.input"] = io.BytesIO(body)  # for moto, which reads it again
        service, _, name = operation.partition(":")
        fault = faults.CALLS.record(operation, function=request.headers.get(FUNCTION_HEADER))
        if fault is None and operation == "sts:AssumeRole":
            fault = faults.refuse_untrusted(body)
        if fault is not None and fault.crash and fault.after:
            # The call goes through; the runtime dies as the answer arrives.
            def crash_after(status: str, headers: list[Any], *exc_info: Any) -> Any:
                return start_response(status, [*headers, (CRASH_HEADER, fault.error)], *exc_info)

            return self._moto(environ, crash_after)
        if fault is not None and fault.crash:
            answer: tuple[int, dict[str, str], bytes] | None = (
                500,
                {CRASH_HEADER: fault.error},
                b"",
            )
        elif fault is not None and fault.error in faults.NETWORK_ERRORS:
            answer = (502, {NETWORK_ERROR_HEADER: f"{fault.error} {request.url}"}, b"")
        elif fault is not None:
            answer = faults.error_response(fault, service)
        else:
            answer = self._served(service, name, request, body)
        if answer is None:
            return self._moto(environ, start_response)
        status, headers, content = answer
        start_response(f"{status} {'OK' if status < 400 else 'Error'}", list(headers.items()))
        return [content]

    @staticmethod
    def _served(
        service: str, name: str, request: Request, body: bytes
    ) -> tuple[int, dict[str, str], bytes] | None:
        """The answer of an API the emulator serves itself, if this is one."""
        scope = _SCOPE.search(request.headers.get("Authorization", ""))
        region = scope.group(1) if scope else "us-east-1"
        # The APIs moto lacks: the same handlers as in-process (served/). They route by
        # the AWS host name, as a client without an endpoint override would send it, with
        # the path and query (REST APIs name resources and parameters in them).
        as_sent = _ServedRequest(
            f"https://{service}.{region}.amazonaws.com{request.full_path}", request.headers, body
        )
        for serve in served.SERVED:
            try:
                response = serve(as_sent, event_name=f"before-send.{service}.{name}")
            except EndpointConnectionError:
                # A host AWS does not have (a service not offered in the region): the
                # function's runtime raises the client's connection error (see the
                # bootstrap), without botocore's retries of it.
                return 502, {NETWORK_ERROR_HEADER: f"EndpointConnectionError {as_sent.url}"}, b""
            if response is not None:
                return response.status_code, dict(response.headers.items()), response.content
        return None


class FunctionProcesses:
    """One warm process per function, started on its first invocation, as Lambda keeps a
    container warm; a crash ends it and the next invocation starts a new one (cold)."""

    def __init__(
        self,
        server_url: str,
        now: datetime,
        retry_wait_scale: float,
        env_overrides: dict[str, str],
    ) -> None:
        self._server_url = server_url
        self._now = now
        self._retry_wait_scale = retry_wait_scale
        self._env_overrides = dict(env_overrides)
        self._tmp = Path(tempfile.mkdtemp(prefix="sweeper-emulator-"))
        self._workers: dict[str, tuple[subprocess.Popen[str], int]] = {}
        self.cold_starts = 0

    def _start(self, fn: Any, region: str) -> tuple[subprocess.Popen[str], int]:
        tmp = self._tmp / f"{fn.logical_id}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        read_end, write_end = os.pipe()
        environment = {
            # What Lambda sets, then the function's environment from the template.
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "TZ": ":UTC",
            "TMPDIR": str(tmp),
            "LAMBDA_TASK_ROOT": str(fn.code_dir),
            "_HANDLER": fn.handler,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_LAMBDA_FUNCTION_NAME": fn.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_ACCESS_KEY_ID": faults.HANDLER_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": "emulated",
            "AWS_SESSION_TOKEN": "emulated",
            **fn.environment,
            **self._env_overrides,
            # Where the emulated AWS answers, for every client the function makes.
            "AWS_ENDPOINT_URL": self._server_url,
            "AWS_EC2_METADATA_DISABLED": "true",
            # The bootstrap's own settings (it removes them before the handler loads).
            "SWEEPER_EMULATOR_ANSWER_FD": str(write_end),
            "SWEEPER_EMULATOR_FUNCTION": fn.logical_id,
            "SWEEPER_EMULATOR_NOW": self._now.isoformat(),
            "SWEEPER_EMULATOR_RETRY_WAIT_SCALE": str(self._retry_wait_scale),
            "SWEEPER_EMULATOR_RETRY_WAITS": str(RETRY_WAITS),
            "SWEEPER_EMULATOR_KUBERNETES_READ_TIMEOUT": str(CLIENT_READ_TIMEOUT),
        }
        process = subprocess.Popen(
            [interpreter_for(fn.runtime), "-I", "-S", "-B", str(BOOTSTRAP)],
            stdin=subprocess.PIPE,
            env=environment,
            cwd=fn.code_dir,
            pass_fds=(write_end,),
            text=True,
        )
        os.close(write_end)
        self.cold_starts += 1
        return process, read_end

    def invoke(self, fn: Any, region: str, event: Any) -> dict[str, Any]:
        """One invocation: {"result"} or {"error"}, "printed", "peak_memory_bytes"."""
        if fn.name not in self._workers or self._workers[fn.name][0].poll() is not None:
            self._workers[fn.name] = self._start(fn, region)
        process, answers = self._workers[fn.name]
        request = {"event": event, "request_id": str(uuid.uuid4()), "function_arn": fn.arn}
        assert process.stdin is not None
        try:
            process.stdin.write(json.dumps(request) + "\n")
            process.stdin.flush()
        except BrokenPipeError:
            pass  # it died starting up: the answer below says so
        line = _read_line(answers, process, fn.timeout_s)
        if line is None:
            self._stop(fn.name)
            return {
                "error": {
                    "errorType": "Runtime.ExitError",
                    "errorMessage": f"{fn.name}: the runtime exited with {process.poll()}",
                },
                "printed": "",
                "peak_memory_bytes": 0,
            }
        answer: dict[str, Any] = json.loads(line)
        return answer

    def _stop(self, name: str) -> None:
        process, answers = self._workers.pop(name)
        if process.poll() is None:
            process.kill()
        process.wait()
        if process.stdin is not None:
            process.stdin.close()
        os.close(answers)

    def close(self) -> None:
        for name in list(self._workers):
            self._stop(name)
        shutil.rmtree(self._tmp, ignore_errors=True)


def _read_line(fd: int, process: subprocess.Popen[str], timeout_s: float) -> str | None:
    """One answer line from the function's process; None if it exits or times out first."""
    data = b""
    while not data.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], timeout_s)
        if not ready:
            process.kill()
            return None
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return None
        data += chunk
    return data.decode()


def interpreter_for(runtime: str) -> str:
    """The Python of the function's runtime (`python3.13`): the artifact's compiled
    packages are built for that version only."""
    version = runtime.removeprefix("python")
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    found = shutil.which(f"python{version}")
    if found is None:
        raise RuntimeError(f"the artifact mode needs python{version} (the runtime {runtime})")
    return found
