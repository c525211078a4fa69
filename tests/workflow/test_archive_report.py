"""An archive run reports what it archived apart from what it deleted, everywhere: the
table, report.json and report.md, the summary line, the notification, the state output,
the metrics and the emulator's printed output."""

import json
import subprocess
import sys
from pathlib import Path

from conftest import digest, image, inventory

ROOT = Path(__file__).resolve().parents[2]
MB = 1_000_000
CONFIG = (
    "safety: {allow_nothing_in_use: true}\n"  # the account runs nothing
    "repositories: [{name: app, expires: 30d, keep_tag_patterns: [], action: archive,"
    " archived_expires: 90d}]\n"
)
ARCHIVED = [f"old{i}" for i in range(4)]


def _account() -> dict:
    """Four expired images (50 MB each) to archive, one archived long ago (10 MB) to
    delete, and a young image to keep."""
    return inventory(
        {
            "app": [
                *(image(label, tags=[label], size=50 * MB) for label in ARCHIVED),
                image(
                    "cold",
                    size=10 * MB,
                    status="ARCHIVED",
                    archived_at="2026-01-01T00:00:00Z",
                ),
                image("new", tags=["new"], age_days=1, size=5 * MB),
            ]
        }
    )


def _metrics(result: dict, function: str) -> dict[str, float]:
    totals: dict[str, float] = {}
    for document in result["metrics"]:
        if document["function"] != function:
            continue
        for name, values in document["metrics"].items():
            totals[name] = totals.get(name, 0) + (
                sum(values) if isinstance(values, list) else values
            )
    return totals


def test_archived_and_deleted_images_are_reported_apart(run_workflow):
    result = run_workflow(_account(), config=CONFIG, parameters={"NotifyOnSuccess": "true"})
    assert result["status"] == "SUCCEEDED", result
    app = result["repositories"]["app"]
    assert app["deleted"] == [digest("cold")]
    assert set(app["archived"]) == {digest(label) for label in ARCHIVED}

    report = result["report"]
    assert (report["images_deleted"], report["bytes_reclaimed"]) == (1, 10 * MB)
    assert (report["images_archived"], report["bytes_archived"]) == (4, 200 * MB)
    [line] = report["repositories"]
    assert (line["deleted"], line["archived_now"]) == (1, 4)
    [row] = line["rows"]
    assert row["expired"] == {"count": 1, "bytes": 10 * MB}
    assert row["archive"] == {"count": 4, "bytes": 200 * MB}
    assert row["keep"] == {"count": 1, "bytes": 5 * MB}
    assert row["total"]["count"] == 6 and row["total"]["bytes"] == 215 * MB

    summary = "deleted 1 image (10 MB), and archived 4 images (200 MB) in 1 repository"
    markdown = result["report_md"]
    assert summary in markdown
    table = [" ".join(line.split()) for line in markdown.splitlines()]
    assert "| REPOSITORY | TYPE | TOTAL | EXPIRED | ARCHIVE | KEEP | STATUS |" in table
    assert "| app | Image | 6 (215 MB) | -1 (10 MB) | 4 (200 MB) | 1 (5.0 MB) | ok |" in table
    deleted_part, archived_part = markdown.split("Deleted:", 1)[1].split("Archived:", 1)
    assert digest("cold") in deleted_part and digest("old0") not in deleted_part
    assert all(digest(label) in archived_part for label in ARCHIVED)

    [notification] = result["notifications"]
    assert "deleted 1 image (10 MB), archived 4 (200 MB)" in notification["subject"]
    assert summary in notification["message"]
    output = result["output"]
    assert (output["images_deleted"], output["images_archived"]) == (1, 4)
    assert (output["bytes_reclaimed"], output["bytes_archived"]) == (10 * MB, 200 * MB)

    deleter = _metrics(result, "DeleterFunction")
    assert deleter["ImagesDeleted"] == 1 and deleter["BytesReclaimed"] == 10 * MB
    assert deleter["ImagesArchived"] == 4 and deleter["BytesArchived"] == 200 * MB


def test_a_dry_run_says_what_it_would_archive(run_workflow):
    result = run_workflow(_account(), config=CONFIG, execution_input=None)
    assert result["status"] == "SUCCEEDED", result
    report = result["report"]
    assert (report["images_deleted"], report["images_archived"]) == (1, 4)
    assert (
        "would delete 1 image (10 MB), and would archive 4 images (200 MB)" in (result["report_md"])
    )
    assert "Would archive:" in result["report_md"]
    planner = _metrics(result, "DeleterFunction")
    assert planner["ImagesPlanned"] == 1 and planner["ImagesPlannedForArchive"] == 4


def test_the_emulator_prints_what_it_archived(tmp_path):
    (tmp_path / "inventory.json").write_text(json.dumps(_account()))
    (tmp_path / "ecrm.yaml").write_text(CONFIG)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "sweeper_emulator",
            "run",
            "--inventory",
            str(tmp_path / "inventory.json"),
            "--config",
            str(tmp_path / "ecrm.yaml"),
            "--input",
            '{"dry_run": false}',
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    assert "Deleted 1 image on app:" in completed.stdout
    assert "Archived 4 images on app:" in completed.stdout
    assert "and archived 4 images (200 MB)" in completed.stdout
