"""What the summary hands to Step Functions and SNS stays small however many repositories.

A state's input or output is at most 256 KiB, and so is an SNS message. The summary's
output carries the success notification, and the run's failure carries the failed
repositories: both must have a size bound that does not grow with the number of
repositories (the first few by name, then counts, then the link to the full report).
Checked here on 5,000 synthetic repositories with 256-character names (the longest ECR
allows), each held, or each failed with a long error, as the summary would find them.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from ecr_sweeper import steps
from ecr_sweeper.core.config import load_config
from ecr_sweeper.core.report import (
    Count,
    KindRow,
    Links,
    RepositoryResult,
    build_report,
    render_failure,
    render_notification,
    render_summary_line,
)
from ecr_sweeper.errors import RepositoriesFailed
from ecr_sweeper.events import PlanOutcome, RunContext
from ecr_sweeper.local import MemoryS3
from ecr_sweeper.run_store import CONFIG_SNAPSHOT, REPOSITORIES, RunStore, repository_file

NOW = datetime(2026, 11, 27)
BUCKET, PREFIX = "run-bucket", "runs/run-1"
COUNT = 5_000
# A state's payload and a notification, whatever the number of repositories. The
# limits are 256 KiB; these leave room for what else the payload holds.
PAYLOAD_BOUND = 16 * 1024
SNS_LIMIT = 256 * 1024


def _name(index: int) -> str:
    name = f"team-{index:04d}/" + "service-" * 40
    return (name + "x" * 256)[:256]


NAMES = [_name(i) for i in range(COUNT)]


def _rows() -> list[KindRow]:
    return [
        KindRow(
            kind="Image",
            total=Count(count=20, bytes=20 * 10**8),
            expired=Count(count=19, bytes=19 * 10**8),
            keep=Count(count=1, bytes=10**8),
        )
    ]


def _result(name: str, *, status: str) -> RepositoryResult:
    return RepositoryResult(
        repository=name,
        rule=name,
        dry_run=True,
        status=status,
        held=(
            "max_delete_ratio: the plan deletes 19 of 20 images (95% > 90%); nothing deleted"
            if status == "held"
            else ""
        ),
        rows=_rows(),
        error="AwsRequestError: " + "AccessDeniedException: not authorized " * 40
        if status == "failed"
        else "",
        plan_key=f"{PREFIX}/plans/{name}.json",
    )


def _run(s3: MemoryS3, names: list[str]) -> RunContext:
    store = RunStore(BUCKET, PREFIX, s3)
    config = load_config("repositories: [{name_pattern: '*', expires: 30d}]\n")
    config_sha256 = store.put_json_sealed(CONFIG_SNAPSHOT, config.model_dump(mode="json"))
    repositories_sha256 = store.put_json_sealed(
        REPOSITORIES, [{"repository": name} for name in names]
    )
    return RunContext(
        execution_name="run-1",
        bucket=BUCKET,
        prefix=PREFIX,
        repositories_key=f"{PREFIX}/{REPOSITORIES}",
        dry_run=True,
        now=NOW,
        max_concurrency=10,
        repositories=len(names),
        in_use_images=3,
        config_sha256=config_sha256,
        repositories_sha256=repositories_sha256,
    )


def _clients(s3: MemoryS3):
    def clients(service: str) -> MemoryS3:
        assert service == "s3", service  # no deleter stopped part-way: no ECR call
        return s3

    return clients


def _size(value: object) -> int:
    return len(json.dumps(value).encode())


def test_the_summary_of_5000_held_repositories_stays_small() -> None:
    s3 = MemoryS3()
    run = _run(s3, NAMES)
    store = RunStore(BUCKET, PREFIX, s3)
    for name in NAMES:
        store.put_model(repository_file("results", name), _result(name, status="held"))
    links = Links(execution="https://console.example/executions/details/" + "a" * 120)

    output, report = steps.summarize_run(run, _clients(s3), links=links, notify_on_success=True)

    assert len([line for line in report.repositories if line.status == "held"]) == COUNT
    payload = output.model_dump(mode="json")
    assert _size(payload) <= PAYLOAD_BOUND
    assert len(output.message.encode()) <= PAYLOAD_BOUND
    assert len(output.subject) <= 100
    # The first repositories by name, then how many more, then where the rest are.
    assert f"- and {COUNT - 10} more (see the full report)" in output.message
    assert f"s3://{BUCKET}/{PREFIX}/report.md" in output.message
    # The full report still lists every one of them.
    markdown = s3.objects[(BUCKET, f"{PREFIX}/report.md")].decode()
    assert all(name in markdown for name in NAMES[:: COUNT // 50])


def test_the_failure_of_5000_repositories_stays_small() -> None:
    s3 = MemoryS3()
    run = _run(s3, NAMES)
    store = RunStore(BUCKET, PREFIX, s3)
    # Half failed in the deleter with a long error; the other half never finished, with
    # a long cause from the Map's results.
    for name in NAMES[: COUNT // 2]:
        store.put_model(repository_file("results", name), _result(name, status="failed"))
    failures = {name: "States.TaskFailed: " + "x" * 5000 for name in NAMES[COUNT // 2 :]}

    with pytest.raises(RepositoriesFailed) as raised:
        steps.summarize_run(run, _clients(s3), failures=failures)

    cause = str(raised.value)
    # The Lambda runtime wraps it with the error type and a few lines of stack trace,
    # and NotifyFailure adds a few lines: far from the 256 KiB of an SNS message.
    assert len(cause.encode()) <= PAYLOAD_BOUND
    assert f"{COUNT} of {COUNT} repositories failed" in cause
    assert f"and {COUNT - 10} more" in cause
    assert f"s3://{BUCKET}/{PREFIX}/report.md" in cause


def test_the_summary_line_and_the_notification_name_a_bounded_number_of_failures() -> None:
    results = {name: _result(name, status="failed") for name in NAMES}
    report = build_report("run-1", True, NOW, NAMES, results, 3)
    line = render_summary_line(report)
    assert f"{COUNT} repositories FAILED" in line
    assert len(line.encode()) <= PAYLOAD_BOUND
    subject, message = render_notification(report, Links(report="s3://b/runs/run-1/report.md"))
    assert len(subject) <= 100
    assert len(message.encode()) <= PAYLOAD_BOUND < SNS_LIMIT
    assert len(render_failure(report).encode()) <= PAYLOAD_BOUND


def test_check_caps_output_stays_small_with_5000_repositories() -> None:
    s3 = MemoryS3()
    run = _run(s3, NAMES)
    outcomes = [
        PlanOutcome(repository=name, plan_sha256="0" * 64, planned=19, held=index % 2 == 0)
        for index, name in enumerate(NAMES)
    ]
    caps = steps.check_caps(run, outcomes, _clients(s3))
    assert caps.repositories == COUNT and caps.held == COUNT // 2
    assert _size(caps.model_dump(mode="json")) <= 1024
