"""An estimate of what one run costs in AWS, at published on-demand prices.

US East (N. Virginia) prices, first pricing tier, no free tier:

* Step Functions Standard: $0.025 per 1,000 state transitions. A Distributed Map
  also bills one transition per child execution it starts.
  https://aws.amazon.com/step-functions/pricing/
* Step Functions Express (the children, with ChildExecutionType=EXPRESS): $1.00 per
  million executions and $0.00001667 per GB-second ($0.06 per GB-hour), each execution
  rounded up to 100 ms and billed for 64 MB (50 MB plus a few KB of definition and
  payload fit in the first 64 MB chunk).
* Lambda, arm64: $0.0000133334 per GB-second and $0.20 per million requests.
  https://aws.amazon.com/lambda/pricing/
* S3 Standard: $0.005 per 1,000 PUT or LIST requests, $0.0004 per 1,000 GET or HEAD
  requests. https://aws.amazon.com/s3/pricing/

ECR, ECS and Lambda API calls cost nothing. Lambda durations are the emulator's: the
handlers' own time with every AWS call answered in-process by moto. In AWS each call
also waits on the network (tens of milliseconds), so read the Lambda figure as a
lower bound and the transitions (exact) as the main cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

TRANSITION = 0.025 / 1000
EXPRESS_REQUEST = 1.00 / 1_000_000
EXPRESS_GB_SECOND = 0.00001667
EXPRESS_MEMORY_GB = 64 / 1024
LAMBDA_GB_SECOND = 0.0000133334
LAMBDA_REQUEST = 0.20 / 1_000_000
S3_WRITE = 0.005 / 1000  # PUT, COPY, POST, LIST
S3_READ = 0.0004 / 1000  # GET, HEAD

S3_WRITES = {"PutObject", "CopyObject", "ListObjectsV2", "ListObjects", "DeleteObject"}

PRICES = {
    "step_functions_transition": TRANSITION,
    "express_request": EXPRESS_REQUEST,
    "express_gb_second": EXPRESS_GB_SECOND,
    "lambda_arm64_gb_second": LAMBDA_GB_SECOND,
    "lambda_request": LAMBDA_REQUEST,
    "s3_put_or_list": S3_WRITE,
    "s3_get": S3_READ,
}


@dataclass(frozen=True)
class Cost:
    transitions: float
    lambda_compute: float
    lambda_requests: float
    s3: float
    express_children: float  # the same run with EXPRESS children (replaces their transitions)
    express_transitions: float

    @property
    def total(self) -> float:
        return self.transitions + self.lambda_compute + self.lambda_requests + self.s3

    @property
    def total_express(self) -> float:
        return (
            self.express_transitions
            + self.express_children
            + self.lambda_compute
            + self.lambda_requests
            + self.s3
        )


def express_children(children: int, seconds: float) -> float:
    """`children` EXPRESS executions of `seconds` each: one request each, and the duration
    rounded up to 100 ms at 64 MB."""
    billed = max(ceil(seconds * 10) / 10, 0.1)
    return children * (EXPRESS_REQUEST + billed * EXPRESS_MEMORY_GB * EXPRESS_GB_SECOND)


def estimate(
    *,
    parent_transitions: int,
    child_transitions: int,
    children: int,
    child_seconds: float,
    gb_seconds: float,
    invocations: int,
    s3_calls: dict[str, int],
) -> Cost:
    """`child_seconds`: the children's Lambda time in all (an EXPRESS child's duration is
    at least that); `gb_seconds`: every invocation's duration times its memory size."""
    s3 = sum(
        n * (S3_WRITE if op.split(":", 1)[1] in S3_WRITES else S3_READ)
        for op, n in s3_calls.items()
    )
    return Cost(
        transitions=(parent_transitions + children + child_transitions) * TRANSITION,
        lambda_compute=gb_seconds * LAMBDA_GB_SECOND,
        lambda_requests=invocations * LAMBDA_REQUEST,
        s3=s3,
        express_children=express_children(children, child_seconds / children) if children else 0.0,
        express_transitions=(parent_transitions + children) * TRANSITION,
    )
