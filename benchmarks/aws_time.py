"""A model of the time a run would take in AWS, from the calls the run made on the emulator.

The emulator answers every AWS call in-process, so its wall time says nothing about AWS.
What it does say exactly is how many calls each step made, how many child executions
each Map started and how many Lambda invocations there were. This module turns those
counts into an estimate of AWS wall time, with every assumption a parameter
(`Assumptions`), and gives two references to read it against: the floor (every ECR and
in-use call at its API's rate limit, perfectly parallel) and ecrm, which makes its
calls one after the other.

The formulas (docs/benchmarks.md states them too):

* One invocation of function f takes
  `d_f = compute_f / n_f + Σ_op latency_op * calls_f,op / n_f / workers_f`:
  its own compute time plus its calls, one after the other (the scan runs `workers`
  calls at a time, the summary 2). `compute_f` is the handler's time on the emulator
  (it includes moto answering the calls in-process; Lambda's CPU is slower).
* A Task state in the parent takes `transition + cold_start + d_f`, and at least
  `calls_op / rate_op` for each of its rate-limited operations.
* A child execution takes `D = child_start + Σ_f∈child (transition + warm_start + d_f)`.
* A Distributed Map of N children at MaxConcurrency C runs in `lanes = min(C, N)` lanes,
  `⌈N / lanes⌉` children each: `T = map_start + ⌈N / lanes⌉ * D + Σ_f∈child (cold_start -
  warm_start)` (each lane's first invocation of each function is a cold start), and at
  least `map_start + calls_op / rate_op` for each rate-limited operation of the
  children. With N = 0 the Map costs only `map_start`.
* The run: `Σ steps + (parent transitions - Task states) * transition`.
* The floor: `max_op calls_op / rate_op` over the ECR and in-use operations (S3, the
  run's own data, and Step Functions are left out): the time the calls need even if
  nothing waited on anything. The estimate is never below it, since each step takes
  at least its own calls at the rate limit.
* ecrm, sequential: `Σ_op max(calls_op * latency_op, calls_op / rate_op)`.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from math import ceil

# Per-call latency, seconds. AWS publishes no latency for its control-plane APIs; 50 ms
# is an assumption for an in-region HTTPS request and its answer (the benchmark's
# figures scale with it: change it to a latency you measured, e.g. from X-Ray).
# BatchDeleteImage writes, so it is assumed three times as slow.
# S3: "roughly 100-200 milliseconds" for small objects, from Amazon S3's performance
# guidelines (https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance-guidelines.html).
DEFAULT_LATENCY_S = 0.05
LATENCY_S: dict[str, float] = {
    "ecr:BatchDeleteImage": 0.15,
    "s3:GetObject": 0.1,
    "s3:HeadObject": 0.1,
    "s3:PutObject": 0.1,
    "s3:CopyObject": 0.1,
    "s3:DeleteObject": 0.1,
    "s3:ListObjectsV2": 0.1,
}

# Requests per second at which throttling starts, per account and Region.
# * ECR publishes rate quotas only for the image push and pull APIs: BatchGetImage
#   2,000 per second (https://docs.aws.amazon.com/AmazonECR/latest/userguide/service-quotas.html).
#   DescribeRepositories, DescribeImages, BatchDeleteImage and ListTagsForResource have
#   no published rate: 20 per second is an assumption (ECS's sustained rate), the
#   parameter to change.
# * ECS: token buckets per action group, sustained about 20 per second for the read
#   actions (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html).
# * Lambda: control-plane requests 15 per second, GetFunction 100 per second
#   (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
# * S3: 3,500 PUT/COPY/POST/DELETE and 5,500 GET/HEAD per second per prefix
#   (the performance guidelines above).
DEFAULT_RATE_PER_S = 20.0
RATE_PER_S: dict[str, float] = {
    "ecr:BatchGetImage": 2000.0,
    "lambda:ListFunctions": 15.0,
    "lambda:ListVersionsByFunction": 15.0,
    "lambda:ListAliases": 15.0,
    "lambda:GetFunction": 100.0,
    "s3:GetObject": 5500.0,
    "s3:HeadObject": 5500.0,
    "s3:PutObject": 3500.0,
    "s3:CopyObject": 3500.0,
    "s3:DeleteObject": 3500.0,
    "s3:ListObjectsV2": 5500.0,
}
# The services whose calls count towards the floor: ECR and the sources of "in use".
FLOOR_SERVICES = frozenset(
    {"ecr", "ecs", "lambda", "eventbridge", "scheduler", "batch", "apprunner", "tag", "eks"}
    | {"kubernetes"}  # an EKS cluster's own API server (its pods and workloads)
)
CONCURRENCIES = (10, 40, 100)  # MapMaxConcurrency values the benchmark reports
EXPRESS_LIMIT_S = 300.0  # an EXPRESS execution's maximum duration (5 minutes)


@dataclass(frozen=True)
class Assumptions:
    """Every figure the model assumes, in seconds (rates in requests per second).

    Lambda and Step Functions publish no latencies. `cold_start_s` is a Python function
    of this size importing boto3 and pydantic (Lambda reports it as `Init Duration` in
    each cold invocation's REPORT log line: measure it there); `warm_start_s` is the
    Step Functions `lambda:invoke` round trip on a warm function; `transition_s` a
    state transition; `child_start_s` starting one child execution of a Distributed
    Map; `map_start_s` a Map Run's start (the ItemReader) and end (the ResultWriter).
    """

    latency_s: Mapping[str, float] = field(default_factory=lambda: dict(LATENCY_S))
    default_latency_s: float = DEFAULT_LATENCY_S
    rate_per_s: Mapping[str, float] = field(default_factory=lambda: dict(RATE_PER_S))
    default_rate_per_s: float = DEFAULT_RATE_PER_S
    cold_start_s: float = 0.8
    warm_start_s: float = 0.03
    transition_s: float = 0.05
    child_start_s: float = 0.1
    map_start_s: float = 1.0
    # Calls a function makes at once: the scan's independent calls run 8 at a time; the
    # summary reads results on min(16, CPUs) threads, 2 at its 512 MB.
    workers: Mapping[str, int] = field(
        default_factory=lambda: {"InUseScanFunction": 8, "SummaryFunction": 2}
    )
    # The handlers' own time is taken from the emulator, as measured. It includes moto
    # answering the calls (too long), and a 512 MB Lambda has a fraction of a vCPU, less
    # than the machine the benchmark runs on (too short): the two pull opposite ways.
    # 0 leaves it out (a lower bound).
    compute_scale: float = 1.0

    def latency(self, operation: str) -> float:
        return self.latency_s.get(operation, self.default_latency_s)

    def rate(self, operation: str) -> float:
        return self.rate_per_s.get(operation, self.default_rate_per_s)


@dataclass(frozen=True)
class Function:
    """What one Lambda function did in a run: all its invocations together."""

    name: str
    invocations: int
    compute_s: float
    calls: Mapping[str, int]  # "service:Operation" -> requests, S3 included
    workers: int = 1

    def invocation_s(self, assume: Assumptions) -> float:
        """d_f: the mean time of one invocation, cold or warm start not included."""
        if not self.invocations:
            return 0.0
        waiting = sum(assume.latency(op) * n for op, n in self.calls.items())
        compute = self.compute_s * assume.compute_scale
        return (compute + waiting / max(1, self.workers)) / self.invocations


@dataclass(frozen=True)
class Step:
    """A Task state of the parent (`children` None) or a Distributed Map of `children`
    child executions, each running `functions` one after the other."""

    name: str
    functions: Sequence[Function]
    children: int | None = None


def rate_bound_s(calls: Mapping[str, int], assume: Assumptions) -> float:
    """The time `calls` need at their APIs' rate limits, each API in parallel."""
    return max((n / assume.rate(op) for op, n in calls.items() if n), default=0.0)


def _calls(functions: Sequence[Function]) -> dict[str, int]:
    total: dict[str, int] = {}
    for function in functions:
        for op, n in function.calls.items():
            total[op] = total.get(op, 0) + n
    return total


def child_s(step: Step, assume: Assumptions) -> float:
    """D: one child execution of a Map, warm, at the mean of its functions' invocations."""
    return assume.child_start_s + sum(
        assume.transition_s + assume.warm_start_s + f.invocation_s(assume) for f in step.functions
    )


def step_s(step: Step, concurrency: int, assume: Assumptions) -> float:
    """The time of one step at MaxConcurrency `concurrency` (see the module docstring)."""
    throttled = rate_bound_s(_calls(step.functions), assume)
    if step.children is None:
        function = step.functions[0]
        run = assume.transition_s + assume.cold_start_s + function.invocation_s(assume)
        return max(run, throttled)
    if step.children == 0:
        return assume.map_start_s + throttled  # no child: no call either, in a real run
    lanes = min(concurrency, step.children)
    cold = len(step.functions) * (assume.cold_start_s - assume.warm_start_s)
    waves = ceil(step.children / lanes)
    return assume.map_start_s + max(waves * child_s(step, assume) + cold, throttled)


def run_s(
    steps: Sequence[Step], parent_transitions: int, concurrency: int, assume: Assumptions
) -> float:
    """The run's wall time: its steps one after the other, plus the parent's other
    states (Choice, Pass, Succeed) at one transition each."""
    # A Task step counts its own transition; a Map state's is among the others.
    tasks = sum(1 for s in steps if s.children is None)
    others = max(0, parent_transitions - tasks)
    return sum(step_s(s, concurrency, assume) for s in steps) + others * assume.transition_s


def floor_s(calls: Mapping[str, int], assume: Assumptions) -> float:
    """Every ECR and in-use call at its API's rate limit, all APIs at once."""
    counted = {op: n for op, n in calls.items() if op.split(":", 1)[0] in FLOOR_SERVICES}
    return rate_bound_s(counted, assume)


def sequential_s(calls: Mapping[str, int], assume: Assumptions) -> float:
    """One call after the other, as ecrm makes them (never faster than the rate limit)."""
    return sum(max(n * assume.latency(op), n / assume.rate(op)) for op, n in calls.items() if n)


def express_max_deletions(concurrency: int, assume: Assumptions, *, batch: int = 100) -> int:
    """The most images one EXPRESS sweep child can delete within its 5 minutes.

    Each batch of `batch` images is a last look (DescribeImages), a BatchDeleteImage
    and a journal write to S3, one after the other. When `concurrency` children share
    ECR's rate, each child gets `rate / concurrency` calls a second of each API, so a
    batch takes at least `concurrency / rate` seconds:
    `t_batch = max(L_DescribeImages + L_BatchDeleteImage + L_PutObject,
    concurrency / min(rate_DescribeImages, rate_BatchDeleteImage))` and the child
    deletes `batch * ⌊(300 - child_start - transition - cold_start) / t_batch⌋`.
    """
    serial = (
        assume.latency("ecr:DescribeImages")
        + assume.latency("ecr:BatchDeleteImage")
        + assume.latency("s3:PutObject")
    )
    shared = concurrency / min(
        assume.rate("ecr:DescribeImages"), assume.rate("ecr:BatchDeleteImage")
    )
    per_batch = max(serial, shared)
    left = EXPRESS_LIMIT_S - assume.child_start_s - assume.transition_s - assume.cold_start_s
    return batch * max(0, int(left // per_batch))


def longest_child_s(step: Step, concurrency: int, assume: Assumptions) -> float:
    """The modelled duration of this Map's longest child, the mean child stretched by
    throttling (its share of the rate) and a cold start: what EXPRESS's 5 minutes bound.

    A child's calls of op at concurrency C get `rate_op / C` a second, so a mean child
    takes at least `(calls_op / N) * C / rate_op`."""
    if not step.children:
        return 0.0
    lanes = min(concurrency, step.children)
    per_child = {op: n / step.children for op, n in _calls(step.functions).items()}
    throttled = max((n * lanes / assume.rate(op) for op, n in per_child.items()), default=0.0)
    cold = len(step.functions) * (assume.cold_start_s - assume.warm_start_s)
    return max(child_s(step, assume), throttled) + cold


# The workflow's steps in order (statemachine/sweep.asl.json): a parent Task state runs
# one function; a Distributed Map, named by its Label, runs its functions in each child.
WORKFLOW: tuple[tuple[str, tuple[str, ...], str | None], ...] = (
    ("scan", ("InUseScanFunction",), None),
    ("plan", ("CollectorFunction", "EvaluatorFunction"), "plan"),
    ("caps", ("CapsFunction",), None),
    ("sweep", ("DeleterFunction",), "sweep"),
    ("summary", ("SummaryFunction",), None),
)


def workflow_steps(
    functions: Mapping[str, Mapping[str, float]],
    calls_by_function: Mapping[str, Mapping[str, int]],
    children: Mapping[str, int],
    assume: Assumptions,
) -> list[Step]:
    """The run's steps from its measured counts: `functions` logical ID -> invocations
    and handler seconds, `calls_by_function` logical ID -> operation -> calls,
    `children` Map label -> child executions."""
    steps = []
    for name, logical_ids, label in WORKFLOW:
        measured = [
            Function(
                name=logical,
                invocations=int(functions.get(logical, {}).get("invocations", 0)),
                compute_s=float(functions.get(logical, {}).get("seconds", 0.0)),
                calls=dict(calls_by_function.get(logical, {})),
                workers=assume.workers.get(logical, 1),
            )
            for logical in logical_ids
        ]
        steps.append(Step(name, measured, None if label is None else children.get(label, 0)))
    return steps


def estimate(
    steps: Sequence[Step],
    *,
    parent_transitions: int,
    calls: Mapping[str, int],
    ecrm: Mapping[str, int],
    assume: Assumptions,
    concurrencies: Sequence[int] = CONCURRENCIES,
) -> dict[str, object]:
    """The figures the benchmark records: wall time per MapMaxConcurrency, per step at
    each, the floor, ecrm's sequential time and the longest child at each."""
    return {
        "wall_s": {
            str(c): round(run_s(steps, parent_transitions, c, assume), 1) for c in concurrencies
        },
        "steps_s": {
            str(c): {s.name: round(step_s(s, c, assume), 1) for s in steps} for c in concurrencies
        },
        "longest_child_s": {
            str(c): {
                s.name: round(longest_child_s(s, c, assume), 1)
                for s in steps
                if s.children is not None
            }
            for c in concurrencies
        },
        "floor_s": round(floor_s(calls, assume), 1),
        "ecrm_calls": dict(ecrm),
        "ecrm_sequential_s": round(sequential_s(ecrm, assume), 1),
        "express_max_deletions": {str(c): express_max_deletions(c, assume) for c in concurrencies},
    }


def describe(assume: Assumptions) -> dict[str, object]:
    """The assumptions as data, for docs/benchmarks.json and the page's table."""
    return {
        "default_latency_s": assume.default_latency_s,
        "latency_s": dict(sorted(assume.latency_s.items())),
        "default_rate_per_s": assume.default_rate_per_s,
        "rate_per_s": dict(sorted(assume.rate_per_s.items())),
        "cold_start_s": assume.cold_start_s,
        "warm_start_s": assume.warm_start_s,
        "transition_s": assume.transition_s,
        "child_start_s": assume.child_start_s,
        "map_start_s": assume.map_start_s,
        "workers": dict(sorted(assume.workers.items())),
        "compute_scale": assume.compute_scale,
        "express_limit_s": EXPRESS_LIMIT_S,
    }


def lambda_seconds(steps: Sequence[Step], assume: Assumptions) -> dict[str, float]:
    """Each function's billed duration in all, in AWS: `n_f * d_f` (its calls' waits
    included, which the emulator's handler time leaves out)."""
    return {
        f.name: f.invocations * f.invocation_s(assume) for step in steps for f in step.functions
    }
