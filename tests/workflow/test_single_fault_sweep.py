"""Every single fault, systematically.

A representative deleting run (several repositories, an image index, a referrer, a
deletion cap set at exactly what the run deletes, and a member account whose sources
are set per place) is run once
without faults, which lists every AWS and S3 call the functions make. Then the workflow
is run again once per call, with that one call failing, in three ways:

- permanent: the call is refused (AccessDenied);
- crash: the function's runtime dies at that call;
- throttle: the call is throttled past botocore's retries (8 attempts), then recovers.

Whatever the fault, these must hold:
1. nothing is deleted that the fault-free dry run would not delete;
2. `max_deletions` is never exceeded;
3. the run ends SUCCEEDED only if every repository finished (all it planned is gone);
4. when the run wrote its report, the report's deletions per repository are exactly what
   left ECR, and its archived images exactly what moved to the archive; when images left
   ECR or were archived, the run is reported (a report or a failure notification).

A second, smaller account sweeps an archive run the same way: one repository whose rule
has `action: archive` (images archived with UpdateImageStorageClass, and one archived
long ago deleted by `archived_expires`). There, "deleted" in 1-3 means deleted or
archived, each checked apart.

The small account runs in `make test`. A larger one (more repositories and images, two
member regions) runs with `SWEEP_ACCOUNT=large python -m pytest
tests/workflow/test_single_fault_sweep.py` (see docs/emulator.md). Random pairs of
faults on the small account are a hypothesis test.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ACCOUNT, digest, image, inventory, uri
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sweeper_emulator.emulator import Emulator
from sweeper_emulator.inventory import inventory_from_dict

INDEX = "application/vnd.oci.image.index.v1+json"
MEMBER, MEMBER_REGION = "210987654321", "eu-west-1"
ROLE = f"arn:aws:iam::{MEMBER}:role/ecr-sweeper-scanner"
BOTOCORE_ATTEMPTS = 8  # adapters/aws.py RETRY_CONFIG


def _repository(name: str, expired: int, *, graph: bool = True) -> list[dict[str, Any]]:
    """`expired` old unused images, one image the home service runs, one the member
    account runs; with `graph`, also an old multi-arch index with its children, a
    cosign signature of an old image (a referrer by its `sha256-<hex>.sig` tag: an
    image to ecrm, so it goes with its subject; an OCI signature would be an artifact,
    kept), and a young image."""
    images = [image(f"{name}-old{i}", tags=[f"old{i}"]) for i in range(expired)]
    images += [
        image(f"{name}-home", tags=["home"]),
        image(f"{name}-member", tags=["member"]),
    ]
    if not graph:
        return images
    images += [
        image(
            f"{name}-index",
            tags=["multi"],
            media_type=INDEX,
            manifests=[digest(f"{name}-amd64"), digest(f"{name}-arm64")],
        ),
        image(f"{name}-amd64", age_days=400),
        image(f"{name}-arm64", age_days=400),
        image(
            f"{name}-sig",
            tags=[digest(f"{name}-old0").replace("sha256:", "sha256-") + ".sig"],
            age_days=400,
        ),
        image(f"{name}-young", tags=["young"], age_days=1),
    ]
    return images


def account(size: str) -> tuple[dict[str, Any], str]:
    names, expired, regions = ["web", "api"], 2, [MEMBER_REGION]
    if size == "large":
        names, expired = ["web", "api", "jobs", "tools", "batch"], 120
        regions = [MEMBER_REGION, "us-east-1"]
    # The small account's second repository is plain: fewer calls, the same paths.
    repositories = {
        name: _repository(name, expired, graph=size == "large" or i == 0)
        for i, name in enumerate(names)
    }
    task_definitions = [
        {"family": "svc", "revision": 1, "images": [uri(n, ":home") for n in names]}
    ]
    member_task_definitions = [
        {"family": "member-svc", "revision": 1, "images": [uri(n, ":member") for n in names]}
    ]
    members = [
        {
            "account_id": MEMBER,
            "region": region,
            "external_id": "sweep",
            "ecs": {
                "clusters": [
                    {
                        "name": "member",
                        "services": [
                            {"name": "svc", "deployments": [{"task_definition": "member-svc:1"}]}
                        ],
                    }
                ],
                "task_definitions": member_task_definitions,
            },
        }
        for region in regions
    ]
    data = inventory(
        repositories,
        ecs={
            "clusters": [
                {
                    "name": "prod",
                    "services": [{"name": "svc", "deployments": [{"task_definition": "svc:1"}]}],
                }
            ],
            "task_definitions": task_definitions,
        },
        accounts=members,
    )
    # The index, its children and the old images and the signature go: the cap is
    # exactly what the fault-free run deletes (set below, from the dry run).
    config = f"""
clusters: [{{name_pattern: "*"}}]
task_definitions: [{{name_pattern: "*", keep_count: 1}}]
lambda_functions: [{{name_pattern: "*", keep_count: 1}}]
repositories: [{{name_pattern: "*", expires: 30d, keep_tag_patterns: []}}]
accounts:
  - role_arn: {ROLE}
    external_id: sweep
    sources: {{batch: false, WORKLOADS_OFF}}
    regions: [{", ".join(_place(region) for region in regions)}]
sources: {{WORKLOADS_OFF}}
safety: {{max_delete_ratio: 1.0, max_deletions: MAX}}
""".replace("WORKLOADS_OFF", WORKLOADS_OFF)
    return data, config


# The workload sources (CodeBuild ... Lightsail) are off: their listing calls fail
# through the same paged()/classify path as App Runner's and Batch's, swept here, and
# each has its own AccessDenied test (test_workload_sources.py); sweeping them too
# added a quarter to the longest test of `make test`.
WORKLOADS_OFF = (
    "codebuild: false, sagemaker: false, emr_serverless: false, agentcore: false, lightsail: false"
)


def _place(region: str) -> str:
    """Per-place sources: the member account reads no Batch, and its first region no
    App Runner either, while home reads both."""
    if region == MEMBER_REGION:
        return f"{{name: {region}, sources: {{app_runner: false}}}}"
    return region


def archive_account() -> tuple[dict[str, Any], str]:
    """The archive variant, small (its calls are swept three times each): one repository
    whose rule archives, with two old images to archive, one archived long ago to delete,
    and a young image to keep. No source to scan: the delete variant sweeps those, and
    the member account."""
    images = [
        image("arc-old0", tags=["old0"]),
        image("arc-old1", tags=["old1"]),
        image("arc-cold", status="ARCHIVED", archived_at="2026-01-01T00:00:00Z"),
        image("arc-new", tags=["new"], age_days=1),
    ]
    config = """
clusters: []
task_definitions: []
lambda_functions: []
sources: {scheduled_tasks: false, batch: false, app_runner: false, WORKLOADS_OFF}
repositories:
  - {name: arc, expires: 30d, keep_tag_patterns: [], action: archive, archived_expires: 90d}
safety: {allow_nothing_in_use: true, max_delete_ratio: 1.0, max_deletions: MAX}
"""
    return inventory({"arc": images}), config.replace("WORKLOADS_OFF", WORKLOADS_OFF)


def _run(
    data: dict[str, Any], config: str, tmp: Path, faults: list[dict[str, Any]], dry: bool = False
) -> dict[str, Any]:
    config_file = tmp / "ecrm.yaml"
    config_file.write_text(config)
    with Emulator(inventory_from_dict({**data, "faults": faults}), config_file=config_file) as em:
        result = em.run(json.dumps({"dry_run": dry}))
        name = result["execution_arn"].rsplit(":", 1)[-1]
        try:
            result["report"] = json.loads(em.read_run_file(name, "report.json"))
        except Exception:  # the run may have failed before writing it
            result["report"] = None
    return result


def _gone(result: dict[str, Any]) -> dict[str, set[str]]:
    return {r: set(v["deleted"]) for r, v in result["repositories"].items()}


def _archived(result: dict[str, Any]) -> dict[str, set[str]]:
    """What the run moved to the archive, per repository."""
    return {r: set(v["archived_now"]) for r, v in result["repositories"].items()}


def _reported(report: dict[str, Any], field: str = "deleted") -> dict[str, int]:
    """Images the report says left ECR (or, with `archived_now`, moved to the archive),
    per repository (rows of every TYPE)."""
    return {line["repository"]: line.get(field, 0) for line in report["repositories"]}


class Baseline:
    """The fault-free runs: what a dry run plans, and the calls a deleting run makes."""

    def __init__(self, size: str, tmp: Path) -> None:
        data, config = archive_account() if size == "archive" else account(size)
        dry = _run(data, config.replace("MAX", "100000"), tmp, [], dry=True)
        assert dry["status"] == "SUCCEEDED", dry
        # max_deletions counts every image a plan lets go, archived or deleted.
        self.cap = dry["output"]["images_deleted"] + dry["output"]["images_archived"]
        assert self.cap > 0
        self.data, self.config = data, config.replace("MAX", str(self.cap))
        clean = _run(self.data, self.config, tmp, [])
        assert clean["status"] == "SUCCEEDED", clean
        self.planned, self.planned_archive = _gone(clean), _archived(clean)
        assert (
            sum(len(d) for d in self.planned.values())
            + sum(len(d) for d in self.planned_archive.values())
            == self.cap
        )
        # The calls, one per occurrence: (operation, index among that operation's calls).
        self.calls = [
            (operation, index)
            for operation, count in sorted(clean["api_calls"].items())
            for index in range(count)
        ]


def fault(kind: str, operation: str, index: int) -> dict[str, Any]:
    service = operation.split(":")[0]
    if kind == "crash":
        error = {"error": "Runtime.ExitError", "crash": True, "times": 1}
    elif kind == "throttle":
        error = {"error": "ThrottlingException", "times": BOTOCORE_ATTEMPTS}
        if service == "s3":
            error = {"error": "SlowDown", "status": 503, "times": BOTOCORE_ATTEMPTS}
    else:
        code = "AccessDenied" if service in ("s3", "sts") else "AccessDeniedException"
        error = {"error": code, "status": 403 if service == "s3" else 400, "times": 1}
    return {"operation": operation, "skip": index, **error}


def violations(baseline: Baseline, result: dict[str, Any], label: str) -> Iterator[str]:
    gone, archived = _gone(result), _archived(result)
    total = sum(len(d) for d in gone.values()) + sum(len(d) for d in archived.values())
    for what, outcome, planned in (
        ("deleted", gone, baseline.planned),
        ("archived", archived, baseline.planned_archive),
    ):
        for repository, digests in outcome.items():
            extra = digests - planned.get(repository, set())
            if extra:
                yield f"{label}: {what} what the dry run keeps in {repository}: {sorted(extra)}"
    if total > baseline.cap:
        yield f"{label}: {total} deleted or archived, over max_deletions {baseline.cap}"
    if result["status"] == "SUCCEEDED" and (gone, archived) != (
        baseline.planned,
        baseline.planned_archive,
    ):
        yield f"{label}: SUCCEEDED but not every repository finished"
    report = result["report"]
    if report is not None:
        for what, field, outcome in (
            ("deleted", "deleted", gone),
            ("archived", "archived_now", archived),
        ):
            reported = _reported(report, field)
            for repository, digests in outcome.items():
                if reported.get(repository, 0) != len(digests):
                    yield (
                        f"{label}: report says {reported.get(repository, 0)} {what} in "
                        f"{repository}, {len(digests)} {what} in ECR"
                    )
    elif total and not result["notifications"]:
        yield f"{label}: {total} images left ECR or were archived and nothing reported it"


SIZE = os.environ.get("SWEEP_ACCOUNT", "small")


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    return Baseline(SIZE, tmp_path_factory.mktemp("baseline"))


@pytest.fixture(scope="module")
def archive_baseline(tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    return Baseline("archive", tmp_path_factory.mktemp("archive-baseline"))


def _sweep(baseline: Baseline, kind: str, tmp_path: Path) -> list[str]:
    found: list[str] = []
    for operation, index in baseline.calls:
        label = f"{kind} on {operation} #{index + 1}"
        result = _run(baseline.data, baseline.config, tmp_path, [fault(kind, operation, index)])
        found.extend(violations(baseline, result, label))
    return found


@pytest.mark.parametrize("kind", ["permanent", "crash", "throttle"])
def test_every_single_fault_keeps_the_safety_properties(baseline, kind, tmp_path):
    assert len(baseline.calls) > 20, baseline.calls  # the run under test makes many calls
    found = _sweep(baseline, kind, tmp_path)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("kind", ["permanent", "crash", "throttle"])
def test_every_single_fault_of_an_archive_run_keeps_the_safety_properties(
    archive_baseline, kind, tmp_path
):
    operations = {operation for operation, _ in archive_baseline.calls}
    assert {"ecr:UpdateImageStorageClass", "ecr:BatchDeleteImage"} <= operations
    found = _sweep(archive_baseline, kind, tmp_path)
    assert not found, "\n".join(found)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_pairs_of_faults_keep_the_safety_properties(baseline, tmp_path, data):
    picks = data.draw(
        st.lists(
            st.tuples(
                st.sampled_from(["permanent", "crash", "throttle"]),
                st.sampled_from(baseline.calls),
            ),
            min_size=2,
            max_size=2,
            unique_by=lambda pick: pick[1],
        )
    )
    faults = [fault(kind, operation, index) for kind, (operation, index) in picks]
    result = _run(baseline.data, baseline.config, tmp_path, faults)
    found = list(violations(baseline, result, f"faults {faults}"))
    assert not found, "\n".join(found)


def test_the_sweep_account_covers_what_the_issue_names(baseline):
    operations = {operation for operation, _ in baseline.calls}
    # Per-place sources: App Runner and Batch are read at home only.
    calls = [operation for operation, _ in baseline.calls]
    assert calls.count("apprunner:ListServices") == calls.count("batch:DescribeJobQueues") == 1
    assert {"sts:AssumeRole", "ecr:BatchDeleteImage", "s3:PutObject"} <= operations
    assert ACCOUNT in json.dumps(baseline.data)
    planned = set().union(*baseline.planned.values())
    assert digest("web-index") in planned and digest("web-amd64") in planned  # the index
    assert digest("web-sig") in planned  # the referrer goes with its subject
    assert digest("web-home") not in planned and digest("web-member") not in planned


def test_the_archive_account_archives_and_deletes(archive_baseline):
    assert archive_baseline.planned_archive == {"arc": {digest("arc-old0"), digest("arc-old1")}}
    assert archive_baseline.planned == {"arc": {digest("arc-cold")}}
    assert len(archive_baseline.calls) < 50, archive_baseline.calls  # swept three times
