"""The AWS time model's formulas (benchmarks/aws_time.py) on accounts small enough to
work out by hand, and ecrm's call count (benchmarks/ecrm.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmarks import aws_time
from benchmarks.aws_time import Assumptions, Function, Step
from benchmarks.ecrm import EcrmAccount, ecrm_calls

# Round figures: every call 100 ms, every API 10 calls a second, a cold start 1 s and
# nothing else costs time, so each expected figure below is a line of arithmetic.
ROUND = Assumptions(
    latency_s={},
    default_latency_s=0.1,
    rate_per_s={},
    default_rate_per_s=10.0,
    cold_start_s=1.0,
    warm_start_s=0.0,
    transition_s=0.0,
    child_start_s=0.0,
    map_start_s=0.0,
    workers={},
)


def describer(children: int, calls_per_child: int = 1) -> Function:
    return Function(
        "CollectorFunction",
        invocations=children,
        compute_s=0.0,
        calls={"ecr:DescribeImages": children * calls_per_child},
    )


def test_an_invocation_is_its_compute_plus_its_calls_one_after_the_other() -> None:
    function = Function("F", invocations=2, compute_s=0.4, calls={"ecr:DescribeImages": 4})
    # (0.4 s + 4 calls * 0.1 s) / 2 invocations
    assert function.invocation_s(ROUND) == pytest.approx(0.4)


def test_workers_divide_the_waiting_but_not_the_compute() -> None:
    function = Function(
        "F", invocations=1, compute_s=0.4, calls={"ecs:DescribeTasks": 8}, workers=4
    )
    assert function.invocation_s(ROUND) == pytest.approx(0.4 + 8 * 0.1 / 4)


def test_compute_scale_zero_leaves_the_emulators_handler_time_out() -> None:
    function = Function("F", invocations=1, compute_s=5.0, calls={"ecr:DescribeImages": 1})
    assert function.invocation_s(replace(ROUND, compute_scale=0.0)) == (pytest.approx(0.1))


@pytest.mark.parametrize(
    ("concurrency", "expected"),
    [
        (1, 5 * 0.1 + 1.0),  # 5 waves of one 0.1 s child, one cold start
        (2, 3 * 0.1 + 1.0),  # lanes 2, waves ⌈5 / 2⌉ = 3
        (10, 1 * 0.1 + 1.0),  # lanes min(10, 5) = 5, one wave
    ],
    ids=["one-lane", "two-lanes", "more-lanes-than-children"],
)
def test_a_map_runs_its_children_in_waves_of_its_concurrency(
    concurrency: int, expected: float
) -> None:
    # 5 calls at 10 a second need 0.5 s: never the bound here.
    step = Step("plan", [describer(5)], children=5)
    assert aws_time.step_s(step, concurrency, ROUND) == pytest.approx(expected)


def test_a_map_is_never_faster_than_its_calls_at_the_rate_limit() -> None:
    slow_api = replace(ROUND, default_rate_per_s=1.0)
    step = Step("plan", [describer(5)], children=5)
    # 5 DescribeImages at 1 a second: 5 s, whatever the concurrency.
    assert aws_time.step_s(step, 10, slow_api) == pytest.approx(5.0)
    assert aws_time.step_s(step, 100, slow_api) == pytest.approx(5.0)


def test_a_map_with_no_children_costs_only_its_start() -> None:
    start = replace(ROUND, map_start_s=0.7)
    assert aws_time.step_s(Step("sweep", [describer(0)], children=0), 10, start) == 0.7


def test_a_parent_task_is_one_cold_invocation() -> None:
    scan = Step("scan", [Function("S", 1, 0.2, {"ecs:ListTasks": 3})])
    assert aws_time.step_s(scan, 10, ROUND) == pytest.approx(1.0 + 0.2 + 0.3)


def test_the_run_adds_its_steps_and_the_parents_other_transitions() -> None:
    timed = replace(ROUND, transition_s=0.5)
    scan = Step("scan", [Function("S", 1, 0.0, {"ecs:ListTasks": 1})])
    plan = Step("plan", [describer(2)], children=2)
    # scan: 0.5 + 1.0 + 0.1; plan: one wave of (0.5 + 0.1) + 1.0 cold;
    # 4 parent transitions less 1 Task state: 3 * 0.5.
    expected = 1.6 + 1.6 + 1.5
    assert aws_time.run_s([scan, plan], 4, 10, timed) == pytest.approx(expected)


def test_the_floor_counts_ecr_and_in_use_calls_only() -> None:
    calls = {"ecr:DescribeImages": 30, "ecs:ListTasks": 5, "s3:GetObject": 1000}
    # 30 DescribeImages at 10 a second; S3 (the run's own data) is not in the floor.
    assert aws_time.floor_s(calls, ROUND) == pytest.approx(3.0)


@pytest.mark.parametrize(
    ("rate", "expected"), [(20.0, 30 * 0.1), (5.0, 30 / 5.0)], ids=["latency", "rate"]
)
def test_ecrm_waits_for_each_call_in_turn(rate: float, expected: float) -> None:
    assume = replace(ROUND, default_rate_per_s=rate)
    assert aws_time.sequential_s({"ecr:DescribeImages": 30}, assume) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("concurrency", "expected"),
    # A batch: 3 calls of 0.1 s, or concurrency / 10 s when children share the rate;
    # ⌊(300 s - 1 s cold start) / per batch⌋ batches of 100: 996, 299 and 29.
    [(1, 99_600), (10, 29_900), (100, 2_900)],
    ids=["alone", "ten", "hundred"],
)
def test_an_express_sweep_child_deletes_less_when_it_shares_the_rate(
    concurrency: int, expected: int
) -> None:
    assert aws_time.express_max_deletions(concurrency, ROUND) == expected


def test_a_throttled_child_takes_its_share_of_the_rate() -> None:
    step = Step("sweep", [describer(20, calls_per_child=3)], children=20)
    # 3 calls a child; 10 children share 10 calls a second: 3 s, plus a cold start.
    assert aws_time.longest_child_s(step, 10, ROUND) == pytest.approx(3.0 + 1.0)
    # Alone, the child's own 3 calls of 0.1 s.
    assert aws_time.longest_child_s(step, 1, ROUND) == pytest.approx(0.3 + 1.0)


def test_workflow_steps_follow_the_state_machine() -> None:
    steps = aws_time.workflow_steps(
        {"CollectorFunction": {"invocations": 3, "seconds": 0.3}},
        {"CollectorFunction": {"ecr:DescribeImages": 3}},
        {"plan": 3, "sweep": 0},
        Assumptions(),
    )
    assert [(s.name, s.children) for s in steps] == [
        ("scan", None),
        ("plan", 3),
        ("caps", None),
        ("sweep", 0),
        ("summary", None),
    ]
    collector = steps[1].functions[0]
    assert (collector.invocations, collector.calls) == (3, {"ecr:DescribeImages": 3})


def test_ecrm_calls_on_a_tiny_account() -> None:
    account = EcrmAccount(
        repositories=150,  # 2 pages of 100
        images=[250, 0],  # 3 pages, and 1 for the empty repository
        kept_indexes=[101, 0],  # 2 BatchGetImage
        deletions=[150, 0],  # 2 BatchDeleteImage
        clusters=3,
        selected_clusters=[(25, 120, 0)],  # 3 pages of services, 2 + 1 of tasks
        families=250,  # 3 pages, every family listed
        selected_families=4,
        task_definitions=17,
        functions=60,  # 2 pages of 50
        selected_function_versions=[7, 3],  # pages of keep_count 3: 3 + 1
        lambda_keep_count=3,
        kept_versions=5,
    )
    assert ecrm_calls(account) == {
        "ecr:DescribeRepositories": 2,
        "ecr:DescribeImages": 4,
        "ecr:BatchGetImage": 2,
        "ecr:BatchDeleteImage": 2,
        "ecs:ListClusters": 1,
        "ecs:ListTasks": 3,
        "ecs:DescribeTasks": 2,
        "ecs:ListServices": 3,
        "ecs:DescribeServices": 3,
        "ecs:ListTaskDefinitionFamilies": 3,
        "ecs:ListTaskDefinitions": 4,
        "ecs:DescribeTaskDefinition": 17,
        "lambda:ListFunctions": 2,
        "lambda:ListVersionsByFunction": 4,
        "lambda:ListAliases": 2,
        "lambda:GetFunction": 5,
    }


functions = st.builds(
    Function,
    name=st.sampled_from(["CollectorFunction", "DeleterFunction"]),
    invocations=st.integers(0, 50),
    compute_s=st.floats(0, 10),
    calls=st.dictionaries(
        st.sampled_from(["ecr:DescribeImages", "ecr:BatchDeleteImage", "s3:PutObject"]),
        st.integers(0, 500),
    ),
)
steps = st.lists(
    st.builds(
        Step,
        name=st.just("step"),
        functions=st.lists(functions, min_size=1, max_size=2),
        children=st.one_of(st.none(), st.integers(0, 200)),
    ),
    min_size=1,
    max_size=5,
)


@given(steps=steps, low=st.integers(1, 200), more=st.integers(0, 800))
def test_more_concurrency_is_never_slower_and_nothing_beats_the_floor(
    steps: list[Step], low: int, more: int
) -> None:
    assume = Assumptions()
    calls: dict[str, int] = {}
    for step in steps:
        for function in step.functions:
            for op, n in function.calls.items():
                calls[op] = calls.get(op, 0) + n
    slow = aws_time.run_s(steps, 7, low, assume)
    fast = aws_time.run_s(steps, 7, low + more, assume)
    assert fast <= slow + 1e-9
    assert fast >= aws_time.floor_s(calls, assume) - 1e-9
