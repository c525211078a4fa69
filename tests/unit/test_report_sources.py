"""Every report says what the scan did not read: the sources the config turns off, and
those whose service botocore's region data has nowhere in a place."""

from datetime import datetime

from ecr_sweeper.core.report import Links, Report, render_markdown, render_notification

OFF = ["clusters (config: [], every place)", "app_runner@210987654321/eu-west-1 (config)"]


def _report(**fields) -> Report:
    return Report(
        execution_name="run-1",
        dry_run=False,
        now=datetime(2026, 11, 27),
        repositories=[],
        failed=[],
        images_total=0,
        images_deleted=0,
        bytes_reclaimed=0,
        in_use_images=1,
        **fields,
    )


SOURCES = {
    "apprunner": {"found": 1, "seconds": 0.2},
    "apprunner@210987654321/ca-central-1": {
        "found": 0,
        "seconds": 0,
        "status": "not available here",
    },
}


def test_the_markdown_report_lists_sources_off_and_not_available() -> None:
    markdown = render_markdown(_report(sources=SOURCES, sources_off=OFF), {})
    assert "apprunner: 1 in 0.2 s" in markdown
    assert "apprunner@210987654321/ca-central-1: not available here" in markdown
    assert f"- sources off: {', '.join(OFF)}" in markdown.splitlines()
    assert (
        "- not available here (botocore's region data): apprunner@210987654321/ca-central-1"
        in markdown.splitlines()
    )


def test_the_notification_lists_them_too() -> None:
    _subject, message = render_notification(_report(sources=SOURCES, sources_off=OFF), Links())
    lines = message.splitlines()
    assert f"Sources off: {', '.join(OFF)}" in lines
    absent = "Not available here (botocore's region data): apprunner@210987654321/ca-central-1"
    assert absent in lines


def test_the_json_report_keeps_them() -> None:
    report = _report(sources=SOURCES, sources_off=OFF)
    again = Report.model_validate_json(report.model_dump_json())
    assert again.sources_off == OFF
    assert again.sources["apprunner@210987654321/ca-central-1"]["status"] == "not available here"


def test_nothing_is_said_when_every_source_was_read() -> None:
    _subject, message = render_notification(_report(sources={"ecs": {"found": 1}}), Links())
    markdown = render_markdown(_report(), {})
    for text in (message, markdown):
        assert "ources off" not in text and "not available here" not in text.lower()
