"""Two changes to moto's state machine interpreter, for runs of thousands of repositories.

* Lambda clients are reused. moto creates a new boto3 client for every Lambda task it
  runs; creating a client costs more than the emulated invocation behind it, and in a
  run of thousands of child executions it was the emulator's largest cost after the
  handlers themselves. One client per region (and per interception mode, as moto picks
  the endpoint by it) sends the same calls.
* A Distributed Map worker loops over its items. moto's worker calls itself once per
  item, so a worker that handles a few hundred children (5,000 repositories at a
  MaxConcurrency of 10) runs out of stack. The loop runs the same steps in the same
  order.
* Finished threads are let go. moto keeps every thread its interpreter starts (a few per
  state of every execution) in a list, and a thread object kept after its thread ended
  keeps the thread's stack mapped: a run of thousands of child executions ran out of
  memory mappings. `release_finished_threads()`, called while a run is polled, drops
  the finished ones from that list.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.core.models import botocore_stubber
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor import (
    distributed_item_processor_worker as worker_module,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
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


def release_finished_threads() -> None:
    TMP_THREADS[:] = [thread for thread in TMP_THREADS if thread.is_alive()]


def install() -> None:
    lambda_eval_utils.boto_client_for = _cached_client_for
    worker_module.DistributedItemProcessorWorker._eval_pool = _eval_pool_loop
