"""Changes to moto's state machine interpreter: for runs of thousands of repositories,
and for the Map results that Step Functions writes.

* Lambda clients are reused. moto creates a new boto3 client for every Lambda task it
  runs; creating a client costs more than the emulated invocation behind it, and in a
  run of thousands of child executions it was the emulator's largest cost after the
  handlers themselves. One client per region (and per interception mode, as moto picks
  the endpoint by it) sends the same calls.
* A Distributed Map worker loops over its items. moto's worker calls itself once per
  item, so a worker that handles a few hundred children (5,000 repositories at a
  MaxConcurrency of 10) runs out of stack. The loop runs the same steps in the same
  order.
* A Distributed Map's ResultWriter writes the children's results. moto writes only an
  empty manifest; Step Functions writes `SUCCEEDED_0.json` and `FAILED_0.json` (each a
  JSON array of the children's executions: `Input`, `Status`, and `Output`, or `Error`
  and `Cause`) and lists them in the manifest's `ResultFiles`. The workflow reads them:
  they are what each child returned, written by the state machine's role alone.
* Finished threads are let go. moto keeps every thread its interpreter starts (a few per
  state of every execution) in a list, and a thread object kept after its thread ended
  keeps the thread's stack mapped: a run of thousands of child executions ran out of
  memory mappings. `release_finished_threads()`, called while a run is polled, drops
  the finished ones from that list.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from moto.core.models import botocore_stubber
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor import (
    distributed_item_processor_worker as worker_module,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor import (
    inline_item_processor_worker as inline_worker_module,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval import (  # noqa: E501
    resource_eval_s3,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.eval.program_state import ProgramError
from moto.stepfunctions.parser.utils import TMP_THREADS

_original_client_for = lambda_eval_utils.boto_client_for
_clients: dict[tuple[str, str, bool], Any] = {}
_lock = threading.Lock()


def _cached_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    key = (region, service, bool(botocore_stubber.enabled))
    with _lock:
        if key not in _clients:
            _clients[key] = _original_client_for(
                region=region, service=service, state_credentials=state_credentials
            )
        return _clients[key]


def _eval_pool_loop(self: Any, job: Any, worker_frame: Any) -> None:
    """moto's DistributedItemProcessorWorker._eval_pool, as a loop instead of a recursion."""
    while True:
        if job is None:
            self._env.delete_frame(worker_frame)
            return
        job_frame = worker_frame.open_inner_frame()
        self._eval_job(env=job_frame, job=job)
        worker_frame.delete_frame(job_frame)
        # The job failed, or the worker was stopped: evaluation ends here.
        if isinstance(job.job_output, Exception) or self.stopped():
            self._env.delete_frame(worker_frame)
            self._job_pool.close_job(job)
            return
        next_job = self._job_pool.next_job()
        if next_job is None:
            # The frame closes before the job: the Map waits for jobs, not workers.
            self._env.delete_frame(worker_frame)
            self._job_pool.close_job(job)
            return
        self._job_pool.close_job(job)
        job = next_job


# Map Run ARN -> the results of its children, as Step Functions' ResultWriter records them.
_CHILD_RESULTS: dict[str, list[dict[str, Any]]] = {}
_child = threading.local()  # the input of the child that runs on this worker thread
_original_eval_input = inline_worker_module.InlineItemProcessorWorker._eval_input
_original_eval_job = worker_module.DistributedItemProcessorWorker._eval_job


def _eval_input_seen(self: Any, env_frame: Any) -> None:
    _original_eval_input(self, env_frame)
    _child.input = env_frame.states.get_input()


def _eval_job_recorded(self: Any, env: Any, job: Any) -> None:
    """moto's _eval_job, then the child's result recorded for the ResultWriter."""
    _child.input = job.job_input
    _original_eval_job(self, env, job)
    entry: dict[str, Any] = {"Input": json.dumps(_child.input)}
    if job.job_output is not None:
        entry.update(Status="SUCCEEDED", Output=json.dumps(job.job_output))
    else:
        state = env.program_state()
        error = (state.error or {}) if isinstance(state, ProgramError) else {}
        entry.update(
            Status="FAILED",
            Error=error.get("error") or "States.Runtime",
            Cause=error.get("cause") or "",
        )
    with _lock:
        _CHILD_RESULTS.setdefault(self._map_run_record.map_run_arn, []).append(entry)


def _write_results(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
    """The ResultWriter's s3:putObject: the result files and the manifest that lists them."""
    parameters = env.stack.pop()
    env.stack.pop()  # the outputs, in order: the files hold them with their status
    s3 = resource_eval_s3.ResourceEvalS3._get_s3_client(
        resource_runtime_part=resource_runtime_part, state_credentials=state_credentials
    )
    map_run_arn = env.map_run_record_pool_manager.get_all().pop().map_run_arn
    prefix = parameters["Prefix"]
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    prefix += map_run_arn.split(":")[-1] + "/"
    with _lock:
        results = _CHILD_RESULTS.pop(map_run_arn, [])
    files: dict[str, list[dict[str, Any]]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
    for status in ("SUCCEEDED", "FAILED"):
        entries = [r for r in results if r["Status"] == status]
        if entries:
            body = json.dumps(entries).encode()
            key = f"{prefix}{status}_0.json"
            s3.put_object(Bucket=parameters["Bucket"], Key=key, Body=body)
            files[status].append({"Key": key, "Size": len(body)})
    manifest = {"DestinationBucket": parameters["Bucket"], "MapRunArn": map_run_arn}
    key = prefix + "manifest.json"
    s3.put_object(
        Bucket=parameters["Bucket"],
        Key=key,
        Body=json.dumps({**manifest, "ResultFiles": files}).encode(),
    )
    env.stack.append(
        {
            "MapRunArn": map_run_arn,
            "ResultWriterDetails": {"Bucket": parameters["Bucket"], "Key": key},
        }
    )


def release_finished_threads() -> None:
    TMP_THREADS[:] = [thread for thread in TMP_THREADS if thread.is_alive()]


def install() -> None:
    lambda_eval_utils.boto_client_for = _cached_client_for
    worker_module.DistributedItemProcessorWorker._eval_pool = _eval_pool_loop
    worker_module.DistributedItemProcessorWorker._eval_job = _eval_job_recorded
    inline_worker_module.InlineItemProcessorWorker._eval_input = _eval_input_seen
    resource_eval_s3.ResourceEvalS3._handle_put_object = staticmethod(_write_results)
