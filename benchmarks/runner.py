"""Runs one size on the emulator: a first run, a second run on the same account, and a
run on a fresh account with memory tracing. Checks every run against the expected
outcome and gathers the figures."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import aws_time, cost, ecrm, synthetic
from benchmarks.floor import SOURCE_OPERATIONS, RunFiles, floor, s3_floor
from ecr_sweeper.core.config import Config, load_config
from sweeper_emulator import runtime
from sweeper_emulator.emulator import Emulator
from sweeper_emulator.inventory import inventory_from_dict

DELETING = '{"dry_run": false}'


class BenchmarkError(Exception):
    """A run did not do what the account says it must."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _function_stats(em: Emulator) -> dict[str, dict[str, Any]]:
    assert em.stack is not None
    return {
        fn.logical_id: {
            "invocations": fn.invocations,
            "seconds": fn.seconds,
            "memory_mb": fn.memory_mb,
            "timeout_s": fn.timeout_s,
            "peak_memory_bytes": fn.peak_memory_bytes,
            "arn": fn.arn,
        }
        for fn in em.stack.functions.values()
    }


def _child_functions(em: Emulator) -> set[str]:
    """Logical IDs of the functions the Distributed Map's children invoke (from the ASL)."""
    assert em.stack is not None
    by_arn = {fn.arn: fn.logical_id for fn in em.stack.functions.values()}
    found: set[str] = set()

    def walk(states: dict[str, Any], inside: bool) -> None:
        for state in states.values():
            name = (state.get("Parameters") or {}).get("FunctionName")
            if inside and name in by_arn:
                found.add(by_arn[name])
            processor = state.get("ItemProcessor") or state.get("Iterator")
            if processor:
                mode = (processor.get("ProcessorConfig") or {}).get("Mode")
                walk(processor.get("States", {}), inside or mode == "DISTRIBUTED")
            for branch in state.get("Branches", []):
                walk(branch.get("States", {}), inside)

    walk(json.loads(em.stack.definition).get("States", {}), False)
    return found


def _parent_and_children(em: Emulator, execution_arn: str) -> tuple[int, dict[str, int]]:
    """States entered in the parent's history, and child executions per Map (by Label)."""
    sfn = em.session.client("stepfunctions")
    events = [
        event
        for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
        for event in page["events"]
    ]
    entered = sum(1 for e in events if e["type"].endswith("StateEntered"))
    children: dict[str, int] = {}
    for run in sfn.list_map_runs(executionArn=execution_arn).get("mapRuns", []):
        counts = sfn.describe_map_run(mapRunArn=run["mapRunArn"])["executionCounts"]
        label = _map_label(run["mapRunArn"])
        children[label] = children.get(label, 0) + int(counts.get("total", 0))
    return entered, children


def run_files(em: Emulator, execution_arn: str) -> RunFiles:
    """The run's files whose number depends on the size of its data (floor.RunFiles)."""
    assert em.stack is not None
    prefix = f"runs/{execution_arn.rsplit(':', 1)[-1]}/"
    sizes: dict[str, int] = {}
    for page in (
        em.session.client("s3")
        .get_paginator("list_objects_v2")
        .paginate(Bucket=em.stack.bucket, Prefix=prefix)
    ):
        sizes.update({o["Key"][len(prefix) :]: o["Size"] for o in page.get("Contents", [])})
    return RunFiles(
        images_files=sum(1 for k in sizes if k.startswith("images/")),
        plans_files=sum(1 for k in sizes if k.startswith("plans/")),
        results_files=sum(1 for k in sizes if k.startswith("results/")),
    )


def _map_label(map_run_arn: str) -> str:
    """A Map Run ARN ends `:mapRun:<state machine>/<Label>:<id>`."""
    return map_run_arn.rsplit(":", 1)[0].rsplit("/", 1)[-1]


def sources_on() -> frozenset[str]:
    """The config's extra sources (beyond ecrm's) that are on, if the config has them."""
    config = load_config(synthetic.config_text("safety" in Config.model_fields))
    switches = getattr(config, "sources", None)
    if switches is None:
        return frozenset()
    return frozenset(name for name in SOURCE_OPERATIONS if getattr(switches, name, False))


def measure(
    em: Emulator,
    account: synthetic.Account,
    *,
    expected: dict[str, set[str]],
    present: dict[str, set[str]],
    cached_revisions: int,
) -> dict[str, Any]:
    """One deleting run, checked against `expected`, with its figures."""
    before = _function_stats(em)
    result = em.run(DELETING, timeout_s=7200)
    after = _function_stats(em)
    if result["status"] != "SUCCEEDED":
        raise BenchmarkError(f"run {result['status']}: {result['error']}: {result['cause']}")
    wrong = [
        repository
        for repository, digests in expected.items()
        if set(result["repositories"][repository]["deleted"]) != digests
    ]
    if result["repositories"][synthetic.UNSELECTED_REPOSITORY]["deleted"]:
        wrong.append(synthetic.UNSELECTED_REPOSITORY)
    if wrong:
        raise BenchmarkError(f"wrong images deleted in {len(wrong)} repositories: {wrong[:5]}")

    terms = floor(
        account,
        present=present,
        deletions={n: len(d) for n, d in expected.items()},
        cached_revisions=cached_revisions,
        stack_functions=len(em.stack.functions) if em.stack else 0,
        sources=sources_on(),
    )
    calls = {op: n for op, n in result["api_calls"].items() if not op.startswith("s3:")}
    s3_calls = {op: n for op, n in result["api_calls"].items() if op.startswith("s3:")}
    s3_by_function = {
        function: {op: n for op, n in ops.items() if op.startswith("s3:")}
        for function, ops in result["api_calls_by_function"].items()
    }
    s3_by_function = {f: ops for f, ops in s3_by_function.items() if ops}
    s3_expected = s3_floor(
        account,
        deletions={n: len(d) for n, d in expected.items()},
        cache_changes=cached_revisions < len(account.needed_revisions),
        files=run_files(em, result["execution_arn"]),
    )
    functions = {
        logical: {
            "invocations": after[logical]["invocations"] - before[logical]["invocations"],
            "seconds": round(after[logical]["seconds"] - before[logical]["seconds"], 3),
            "memory_mb": after[logical]["memory_mb"],
            "timeout_s": after[logical]["timeout_s"],
        }
        for logical in after
    }
    parent_transitions, map_children = _parent_and_children(em, result["execution_arn"])
    children = sum(map_children.values())
    child_functions = _child_functions(em)
    run_cost = cost.estimate(
        parent_transitions=parent_transitions,
        child_transitions=result["state_transitions"] - parent_transitions,
        children=children,
        child_seconds=sum(f["seconds"] for k, f in functions.items() if k in child_functions),
        gb_seconds=sum(f["seconds"] * f["memory_mb"] / 1024 for f in functions.values()),
        invocations=sum(f["invocations"] for f in functions.values()),
        s3_calls=s3_calls,
    )
    floor_total = sum(t.calls for t in terms)
    calls_total = sum(calls.values())
    calls_by_function = {
        logical: dict(ops) for logical, ops in result["api_calls_by_function"].items() if logical
    }
    assume = aws_time.Assumptions()
    steps = aws_time.workflow_steps(functions, calls_by_function, map_children, assume)
    modelled = aws_time.estimate(
        steps,
        parent_transitions=parent_transitions,
        calls=calls,
        ecrm=ecrm.ecrm_calls(ecrm.from_account(account, present=present, deleted=expected)),
        assume=assume,
    )
    modelled["cost_usd"] = _modelled_cost(
        steps,
        functions,
        map_children,
        parent_transitions=parent_transitions,
        child_transitions=result["state_transitions"] - parent_transitions,
        s3=run_cost.s3,
        longest_child_s=modelled["longest_child_s"],  # type: ignore[arg-type]
        assume=assume,
    )
    return {
        "wall_seconds": result["wall_seconds"],
        "deleted": sum(len(d) for d in expected.values()),
        "api_calls": dict(sorted(calls.items())),
        "api_calls_total": calls_total,
        "floor": {t.operation: t.calls for t in terms},
        "floor_total": floor_total,
        "ratio": round(calls_total / floor_total, 3),
        "s3_calls": dict(sorted(s3_calls.items())),
        "s3_calls_by_function": dict(sorted(s3_by_function.items())),
        "s3_floor": dict(sorted(s3_expected.items())),
        "s3_calls_per_repository": round(sum(s3_calls.values()) / len(account.images), 2),
        "history_events": result["history_events"],
        "max_state_payload_bytes": result["max_state_payload_bytes"],
        "state_transitions": result["state_transitions"] + children,
        "parent_transitions": parent_transitions,
        "child_executions": children,
        "map_children": dict(sorted(map_children.items())),
        "api_calls_by_function": calls_by_function,
        "aws_time": modelled,
        "functions": functions,
        "cost_usd": {
            "transitions": run_cost.transitions,
            "lambda_compute": run_cost.lambda_compute,
            "lambda_requests": run_cost.lambda_requests,
            "s3": run_cost.s3,
            "total": run_cost.total,
            "total_with_express_children": run_cost.total_express,
        },
    }


def _modelled_cost(
    steps: list[aws_time.Step],
    functions: dict[str, dict[str, Any]],
    map_children: dict[str, int],
    *,
    parent_transitions: int,
    child_transitions: int,
    s3: float,
    longest_child_s: dict[str, dict[str, float]],
    assume: aws_time.Assumptions,
) -> dict[str, float]:
    """The run's cost with Lambda billed for the modelled AWS durations (its calls' waits
    included) and, for EXPRESS children, each child billed for its modelled duration at
    MapMaxConcurrency 10 and 100."""
    seconds = aws_time.lambda_seconds(steps, assume)
    lambda_usd = (
        sum(
            s * functions[f]["memory_mb"] / 1024 * cost.LAMBDA_GB_SECOND for f, s in seconds.items()
        )
        + sum(f["invocations"] for f in functions.values()) * cost.LAMBDA_REQUEST
    )
    children = sum(map_children.values())
    standard = (parent_transitions + children + child_transitions) * cost.TRANSITION
    express = {
        concurrency: (parent_transitions + children) * cost.TRANSITION
        + sum(
            cost.express_children(n, longest_child_s[concurrency].get(label, 0.0))
            for label, n in map_children.items()
        )
        for concurrency in ("10", "100")
    }
    return {
        "lambda": round(lambda_usd, 6),
        "standard": round(standard + lambda_usd + s3, 6),
        "express_10": round(express["10"] + lambda_usd + s3, 6),
        "express_100": round(express["100"] + lambda_usd + s3, 6),
    }


def run_size(
    size: synthetic.Size, workdir: Path | None = None, child_type: str = "STANDARD"
) -> dict[str, Any]:
    """`child_type`: the stack's ChildExecutionType (the Maps' children STANDARD or EXPRESS)."""
    parameters = {"ChildExecutionType": child_type}
    started = time.monotonic()
    account = synthetic.build(size)
    expected = synthetic.expected_outcome(account)
    inventory = inventory_from_dict(account.inventory)
    with tempfile.TemporaryDirectory() as tmp:
        config_file = Path(workdir or tmp) / f"ecrm-{size.name}.yaml"
        config_file.write_text(synthetic.config_text("safety" in Config.model_fields))
        everything = {n: {i.digest for i in images} for n, images in account.images.items()}
        left = {n: everything[n] - expected[n] for n in everything}
        with Emulator(inventory, config_file=config_file, parameters=parameters) as em:
            log(f"  {size.name}: first run")
            first = measure(em, account, expected=expected, present=everything, cached_revisions=0)
            log(f"  {size.name}: first run {first['wall_seconds']:.1f}s; second run")
            second = measure(
                em,
                account,
                expected={n: set() for n in expected},
                present=left,
                cached_revisions=len(account.needed_revisions),
            )
            log(f"  {size.name}: second run {second['wall_seconds']:.1f}s")
        log(f"  {size.name}: memory run")
        with Emulator(
            inventory, config_file=config_file, measure_memory=True, parameters=parameters
        ) as em:
            children = _child_functions(em)
            traced = None if size.trace_children else set(_function_stats(em)) - children
            runtime.measure_memory_only(traced)
            result = em.run(DELETING, timeout_s=7200)
            if result["status"] != "SUCCEEDED":
                raise BenchmarkError(
                    f"memory run {result['status']}: {result['error']}: {result['cause']}"
                )
            peaks = {
                logical: stats["peak_memory_bytes"]
                for logical, stats in _function_stats(em).items()
                if traced is None or logical in traced
            }
    return {
        "name": size.name,
        "title": size.title,
        "child_type": child_type,
        "inventory": {
            "repositories": size.repositories,
            "images_per_repository": size.images,
            "images": sum(len(i) for i in account.images.values()),
            "task_definition_families": size.families,
            "revisions_per_family": size.revisions,
            "services": size.services,
            "tasks": sum(sum(c["tasks"].values()) for c in account.clusters.values()),
            "lambda_functions": size.functions,
            "lambda_versions": size.lambda_versions,
            "needed_task_definitions": len(account.needed_revisions),
            "expected_deletions": sum(len(d) for d in expected.values()),
        },
        "first": first,
        "second": second,
        "peak_memory_bytes": peaks,
        "benchmark_seconds": round(time.monotonic() - started, 1),
    }
