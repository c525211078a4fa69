"""One emulated run, end to end: deploy, load the inventory, execute, read back the result."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends
from moto.stepfunctions.parser.asl.eval.event import event_manager

from sweeper_emulator import (
    artifact_mode,
    faults,
    loaders,
    moto_patches,
    retry_waits,
    runtime,
    served,
)
from sweeper_emulator.inventory import Inventory, Rewrite
from sweeper_emulator.moto_patches import ecr_model, interpreter
from sweeper_emulator.served import eks_api

MOCK_CONFIG = {"stepfunctions": {"execute_state_machine": True}}
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


class PayloadMeter:
    """The largest state input or output in every history, the children's included.

    moto gives a Distributed Map's child executions their own event managers and
    no API to read their histories, so this watches every event as it is added.
    """

    def __init__(self) -> None:
        self.largest = 0
        self._lock = threading.Lock()

    def observe(self, details: Any) -> None:
        for size in _payload_sizes(details):
            with self._lock:
                self.largest = max(self.largest, size)


def _payload_sizes(value: Any) -> list[int]:
    sizes: list[int] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("input", "output") and isinstance(item, str):
                sizes.append(len(item.encode()))
            else:
                sizes.extend(_payload_sizes(item))
    return sizes


METER = PayloadMeter()


class TransitionMeter:
    """State transitions: states entered, in every history, the children's included.
    AWS bills a STANDARD workflow by these (and by each retry, not counted here)."""

    def __init__(self) -> None:
        self.transitions = 0
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self.transitions = 0

    def observe(self, event_type: Any) -> None:
        if str(getattr(event_type, "value", event_type)).endswith("StateEntered"):
            with self._lock:
                self.transitions += 1


TRANSITIONS = TransitionMeter()
_original_add_event = event_manager.EventManager.add_event


def _add_event(
    self: Any, context: Any, event_type: Any, event_details: Any = None, *args: Any, **kwargs: Any
) -> int:
    if event_details:
        METER.observe(event_details)
    TRANSITIONS.observe(event_type)
    return _original_add_event(self, context, event_type, event_details, *args, **kwargs)


def _scale_retry_waits(scale: float) -> None:
    """botocore's waits and the state machine's Retry intervals, compressed alike."""
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    retrier_decl.time = retry_waits.scale_botocore_waits(scale)


def _install_everything(
    inventory: Inventory,
    verbose: bool,
    measure_memory: bool,
    retry_wait_scale: float,
    processes: artifact_mode.FunctionProcesses | None,
) -> None:
    _scale_retry_waits(retry_wait_scale)
    event_manager.EventManager.add_event = _add_event
    moto_patches.install()
    faults.install()
    served.install()
    runtime.install(_log_overrides(verbose), measure_memory=measure_memory, processes=processes)
    import ecr_sweeper.clock  # the handlers' package, importable once CodeUri is on sys.path

    ecr_sweeper.clock.utcnow = lambda: inventory.now
    eks_api.lower_client_timeout()


def _log_overrides(verbose: bool) -> dict[str, str]:
    return {} if verbose else {"POWERTOOLS_LOG_LEVEL": "WARNING"}


class Emulator:
    """A mocked account with the stack deployed and an inventory loaded.

    Use as a context manager; `run()` may be called several times (e.g. a dry
    run, then a deleting run, on the same account).
    """

    def __init__(
        self,
        inventory: Inventory,
        *,
        config_file: Path | None = None,
        parameters: dict[str, str] | None = None,
        verbose: bool = False,
        measure_memory: bool = False,
        retry_wait_scale: float = 0.01,
        root: Path = runtime.ROOT,
        from_build: Path | None = None,
    ) -> None:
        """`from_build`: a `sam build` output folder (its template.yaml and one folder a
        function): the artifact mode, where each invocation runs the function's handler
        from its artifact in a process of its own (see artifact_mode.py)."""
        self.inventory = inventory
        self._config_file = config_file
        self._parameters = parameters
        self._verbose = verbose
        self._measure_memory = measure_memory
        self._retry_wait_scale = retry_wait_scale
        self._root = root
        self._from_build = Path(from_build).resolve() if from_build is not None else None
        self._server: artifact_mode.EmulatorServer | None = None
        self._processes: artifact_mode.FunctionProcesses | None = None
        self._mock = mock_aws(config=MOCK_CONFIG)
        self._saved_env: dict[str, str] = {}
        self._pending_changes: list[Any] = []
        self._execution_name = ""
        self.stack: runtime.Stack | None = None
        self._run_stack: runtime.Stack | None = None  # the stack of the current run()

    def __enter__(self) -> Emulator:
        self._saved_env = dict(os.environ)
        # Never let an emulated run reach a real account.
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing",
                "AWS_DEFAULT_REGION": self.inventory.region,
                "MOTO_LAMBDA_STUB_ECR": "TRUE",
            }
        )
        # moto takes the account from MOTO_ACCOUNT_ID before the access key: set, it would
        # put a role assumed in another account back into this one. Unset, every call
        # made with the emulator's keys lands in moto's default account.
        os.environ.pop("MOTO_ACCOUNT_ID", None)
        if self.inventory.account_id != DEFAULT_ACCOUNT_ID:
            if self.inventory.accounts:
                raise ValueError(
                    f"an inventory with other accounts must use account_id "
                    f"{DEFAULT_ACCOUNT_ID} (the emulator's own), not {self.inventory.account_id}"
                )
            os.environ["MOTO_ACCOUNT_ID"] = self.inventory.account_id
        os.environ.pop("AWS_PROFILE", None)
        self._mock.start()
        if not self._verbose:
            # moto's interpreter logs every caught failure at ERROR: the result says it all.
            logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
        import sys

        # The emulator renders reports with the product's code, from the source tree.
        sys.path.insert(0, str(self._root / "functions"))
        if self._from_build is not None:
            if not (self._from_build / "template.yaml").is_file():
                raise ValueError(f"{self._from_build} is not a sam build output (no template.yaml)")
            self._server = artifact_mode.EmulatorServer()
            self._processes = artifact_mode.FunctionProcesses(
                self._server.url,
                now=self.inventory.now,
                retry_wait_scale=self._retry_wait_scale,
                env_overrides=_log_overrides(self._verbose),
            )
        _install_everything(
            self.inventory,
            self._verbose,
            self._measure_memory,
            self._retry_wait_scale,
            self._processes,
        )
        self.stack = runtime.deploy(
            self.inventory.account_id,
            self.inventory.region,
            root=self._from_build or self._root,
            parameters=self._parameters,
            config_file=self._config_file,
        )
        ecr_model.CLOCK["now"] = self.inventory.now
        runtime.BEFORE_INVOKE[:] = [self._apply_changes]
        loaders.load_account(self.inventory)
        faults.TRUSTED_ROLES.clear()
        faults.TRUSTED_ROLES.update({m.role_arn: m.external_id for m in self.inventory.accounts})
        # Armed now, and again by every run(): an execution another client starts (say the
        # CLI under test) meets them too.
        faults.CALLS.reset(self.inventory.faults)
        return self

    def _apply_changes(self, fn: runtime.DeployedFunction) -> None:
        """Apply the inventory's `changes` and `rewrites` due before this function, once
        per run."""
        due = [c for c in self._pending_changes if c.before == fn.logical_id]
        for change in due:
            self._pending_changes.remove(change)
            if isinstance(change, Rewrite):
                self._rewrite(change)
            else:
                ecr_model.apply_change(self.inventory.account_id, self.inventory.region, change)

    def _rewrite(self, rewrite: Rewrite) -> None:
        """Rewrite a file of the running execution, as a principal other than its step."""
        stack = self._run_stack or self.stack
        assert stack is not None
        s3 = self.session.client("s3")
        key = f"runs/{self._execution_name}/{rewrite.name}"
        if rewrite.body is not None:
            text = json.dumps(rewrite.body)
        else:
            text = s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read().decode()
            for old, new in rewrite.replace.items():
                if old not in text:
                    raise ValueError(f"rewrite of {rewrite.name}: {old!r} is not in it")
                text = text.replace(old, new)
        s3.put_object(Bucket=stack.bucket, Key=key, Body=text.encode())

    def __exit__(self, *exc: object) -> None:
        runtime.BEFORE_INVOKE.clear()
        if self._processes is not None:
            self._processes.close()
            runtime.install(processes=None)
        if self._server is not None:
            self._server.stop()
        eks_api.stop_servers()
        _scale_retry_waits(1.0)
        self._mock.stop()
        os.environ.clear()
        os.environ.update(self._saved_env)

    @property
    def session(self) -> boto3.Session:
        return boto3.Session(region_name=self.inventory.region)

    def deploy_stack(self, name: str, parameters: dict[str, str] | None = None) -> runtime.Stack:
        """Deploy the template again, as another stack in the same mocked account and
        region (say `ecr-sweeper-dev` beside `ecr-sweeper-prod`): its own bucket, topic,
        functions and state machine, the same config file, over the same registry.
        `run(stack=...)` and `run_overlapping(stacks=...)` start its executions."""
        assert self.stack is not None, "use the Emulator as a context manager"
        if name == self.stack.name:
            raise ValueError(f"stack {name} is deployed already")
        return runtime.deploy(
            self.inventory.account_id,
            self.inventory.region,
            root=self._from_build or self._root,
            stack_name=name,
            parameters=parameters,
            config_file=self._config_file,
        )

    def run(
        self,
        execution_input: str | None = None,
        *,
        name: str | None = None,
        timeout_s: float = 1800,
        stack: runtime.Stack | None = None,
        watch: Callable[[Any, str], None] | None = None,
        watch_every_s: float = 1.0,
    ) -> dict[str, Any]:
        """Start an execution (of `stack`, default the first one deployed), wait for it,
        and return the result (see docs/emulator.md). `watch(sfn client, execution ARN)`
        is called every `watch_every_s` while it runs, and once at its end: what the
        command line prints as progress."""
        assert self.stack is not None, "use the Emulator as a context manager"
        stack = self._run_stack = stack or self.stack
        faults.CALLS.reset(self.inventory.faults)
        ecr_model.DELETION_LOG.clear()
        runtime.METRICS.clear()
        self._pending_changes = [*self.inventory.changes, *self.inventory.rewrites]
        ecr_model.DELETE_FAILURES.clear()
        ecr_model.DELETE_FAILURES.update(self.inventory.delete_failures)
        METER.largest = 0
        TRANSITIONS.reset()
        before = {
            r.name: set(
                ecr_model.remaining_digests(
                    self.inventory.account_id, self.inventory.region, r.name
                )
            )
            for r in self.inventory.repositories
        }
        statuses_before = {
            r.name: ecr_model.statuses(self.inventory.account_id, self.inventory.region, r.name)
            for r in self.inventory.repositories
        }
        topic = sns_backends[self.inventory.account_id][self.inventory.region].topics[
            stack.topic_arn
        ]
        notifications_before = len(topic.sent_notifications)

        sfn = self.session.client("stepfunctions")
        self._execution_name = name or f"run-{uuid.uuid4().hex[:12]}"
        arguments: dict[str, Any] = {
            "stateMachineArn": stack.state_machine_arn,
            "name": self._execution_name,
        }
        if execution_input is not None:
            arguments["input"] = execution_input
        started = time.monotonic()
        execution_arn = sfn.start_execution(**arguments)["executionArn"]
        watched = 0.0
        while True:
            description = sfn.describe_execution(executionArn=execution_arn)
            if watch is not None and (
                description["status"] in TERMINAL or time.monotonic() - watched >= watch_every_s
            ):
                watched = time.monotonic()
                watch(sfn, execution_arn)
            if description["status"] in TERMINAL:
                break
            if time.monotonic() - started > timeout_s:
                raise TimeoutError(f"execution {execution_arn} still running after {timeout_s}s")
            interpreter.release_finished_threads()
            # Poll less often as the run goes on: the poll competes with the run for the GIL.
            time.sleep(min(0.25, 0.05 + (time.monotonic() - started) / 100))
        wall = time.monotonic() - started

        history: list[dict[str, Any]] = []
        for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
            history.extend(page["events"])
        repositories = {}
        for repo, digests in before.items():
            remaining = ecr_model.remaining_digests(
                self.inventory.account_id, self.inventory.region, repo
            )
            status = ecr_model.statuses(self.inventory.account_id, self.inventory.region, repo)
            was = statuses_before[repo]
            repositories[repo] = {
                "deleted": sorted(digests - set(remaining)),
                "remaining": sorted(remaining),
                "archived": sorted(d for d, s in status.items() if s == "ARCHIVED"),
                # Moved to the archive during this run.
                "archived_now": sorted(
                    d for d, s in status.items() if s == "ARCHIVED" and was.get(d) != "ARCHIVED"
                ),
            }
        notifications = [
            {"subject": subject, "message": message}
            for (_id, message, subject, *_rest) in topic.sent_notifications[notifications_before:]
        ]
        output = json.loads(description["output"]) if description.get("output") else None
        return {
            "status": description["status"],
            "execution_arn": execution_arn,
            "output": output,
            "error": description.get("error"),
            "cause": description.get("cause"),
            "repositories": repositories,
            "notifications": notifications,
            "api_calls": dict(sorted(faults.CALLS.calls.items())),
            "api_calls_by_function": faults.CALLS.calls_by_function(),
            "history_events": len(history),
            "max_state_payload_bytes": METER.largest,
            "state_transitions": TRANSITIONS.transitions,
            "deletion_order": [list(item) for item in ecr_model.DELETION_LOG],
            "metrics": list(runtime.METRICS),
            "wall_seconds": round(wall, 3),
        }

    def run_overlapping(
        self,
        inputs: list[str | None],
        timeout_s: float = 600,
        *,
        stacks: list[runtime.Stack] | None = None,
    ) -> list[dict[str, Any]]:
        """Start several executions at once, in the order given (say, a schedule retry
        and a manual run; with `stacks`, the stack of each input: runs of two stacks over
        one registry), and wait for all: [{status, error, cause, execution_arn}]."""
        assert self.stack is not None, "use the Emulator as a context manager"
        targets = stacks or [self.stack] * len(inputs)
        if len(targets) != len(inputs):
            raise ValueError("run_overlapping: one stack for each input")
        faults.CALLS.reset(self.inventory.faults)
        sfn = self.session.client("stepfunctions")
        arns = [
            sfn.start_execution(
                stateMachineArn=stack.state_machine_arn,
                name=f"overlap-{index}-{uuid.uuid4().hex[:8]}",
                **({"input": text} if text is not None else {}),
            )["executionArn"]
            for index, (text, stack) in enumerate(zip(inputs, targets, strict=True))
        ]
        started, results = time.monotonic(), {}
        while len(results) < len(arns):
            for arn in arns:
                description = sfn.describe_execution(executionArn=arn)
                if arn not in results and description["status"] in TERMINAL:
                    results[arn] = {
                        "execution_arn": arn,
                        "status": description["status"],
                        "error": description.get("error"),
                        "cause": description.get("cause"),
                    }
            if time.monotonic() - started > timeout_s:
                raise TimeoutError("overlapping executions still running")
            time.sleep(0.05)
        return [results[arn] for arn in arns]

    def map_outputs(self, execution_arn: str) -> dict[str, list[dict[str, Any]]]:
        """What each Map's children returned ({"plan": [...], "sweep": [...]}), from the
        Maps' ResultWriter files, as the Summarize step was given them (none before)."""
        from ecr_sweeper.adapters.map_results import read_child_results
        from ecr_sweeper.events import MapResults

        summary: dict[str, Any] = {}
        sfn = self.session.client("stepfunctions")
        for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
            for event in page["events"]:
                details = event.get("taskScheduledEventDetails") or {}
                payload = json.loads(details.get("parameters") or "{}").get("Payload") or {}
                if "plan_results" in payload:
                    summary = payload
        outputs: dict[str, list[dict[str, Any]]] = {"plan": [], "sweep": []}
        for phase in outputs:
            if summary.get(f"{phase}_results"):
                where = MapResults.model_validate(summary[f"{phase}_results"])
                children = read_child_results(
                    self.session.client("s3"), where, summary["run"]["bucket"]
                )
                outputs[phase] = children.succeeded
        return outputs

    def repository_results(
        self, execution_arn: str, repositories: list[str]
    ) -> dict[str, dict[str, Any] | None]:
        """Each repository's result (None: none), where the summary finds it: inline in
        the plan Map's results (a plan with nothing to sweep) or the sweep Map's (a
        deleter that finished), else results/<repo>.json (a failed or large one)."""
        from ecr_sweeper.adapters.map_results import inline_results

        outputs = self.map_outputs(execution_arn)
        inline = {
            phase: {r.repository: r.model_dump(mode="json") for r in inline_results(o, phase)}
            for phase, o in outputs.items()
        }
        name = execution_arn.rsplit(":", 1)[-1]
        found: dict[str, dict[str, Any] | None] = {}
        for repository in repositories:
            try:
                written = json.loads(self.read_run_file(name, f"results/{repository}.json"))
            except Exception:  # none written
                written = None
            found[repository] = (
                inline["sweep"].get(repository) or written or inline["plan"].get(repository)
            )
        return found

    def read_run_file(
        self, execution_name: str, name: str, *, stack: runtime.Stack | None = None
    ) -> str:
        """A file the run wrote under runs/<execution>/ in the run bucket (of `stack`,
        default the first one deployed)."""
        stack = stack or self.stack
        assert stack is not None
        body = self.session.client("s3").get_object(
            Bucket=stack.bucket, Key=f"runs/{execution_name}/{name}"
        )["Body"]
        return body.read().decode()
