"""Safety rails on the emulator: re-check, pull recency, caps, protection, archive."""

from conftest import NOW, deleted, digest, image, inventory, remaining, stamp


def _old(*labels: str) -> list[dict]:
    return [image(label, tags=[label]) for label in labels]


def test_an_image_pulled_between_the_scan_and_the_deleter_is_skipped(run_workflow):
    data = inventory(
        {"app": _old("pulled", "tagged", "plain")},
        changes=[
            {
                "before": "DeleterFunction",
                "repository": "app",
                "digest": digest("pulled"),
                "pulled_at": stamp(NOW.replace(hour=1)),
            },
            {
                "before": "DeleterFunction",
                "repository": "app",
                "digest": digest("tagged"),
                "add_tags": ["hotfix"],
            },
        ],
    )
    result = run_workflow(data)
    assert result["status"] == "SUCCEEDED", result
    assert deleted(result, "app") == {digest("plain")}
    skipped = {s["digest"]: s["reason"] for s in result["results"]["app"]["skipped"]}
    assert skipped == {digest("pulled"): "pulled_during_run", digest("tagged"): "tagged_during_run"}
    assert "pulled" in result["report_md"] and "after the run began" in result["report_md"]


def test_keep_pulled_within_keeps_a_recently_pulled_expired_unused_image(run_workflow):
    config = (
        "repositories: [{name: app, expires: 30d, keep_tag_patterns: [],"
        " keep_pulled_within: 14d}]\n"
    )
    images = [
        image("recent", last_pulled_at=stamp(NOW.replace(day=20))),
        image("stale", last_pulled_at="2026-01-01T00:00:00Z"),
        image("never"),
    ]
    result = run_workflow(inventory({"app": images}), config=config)
    assert result["status"] == "SUCCEEDED", result
    assert remaining(result, "app") == {digest("recent")}


def test_max_delete_ratio_holds_one_repository_and_cleans_the_others(run_workflow):
    config = (
        "safety: {max_delete_ratio: 0.5, ratio_min_images: 4}\n"
        "repositories: [{name_pattern: '*', expires: 30d, keep_tag_patterns: []}]\n"
    )
    data = inventory(
        {
            "wiped": [image(f"w{i}") for i in range(5)],  # 5 of 5 would go: held
            "trimmed": [
                image("t0"),
                image("t1", age_days=1),
                image("t2", age_days=1),
                image("t3", age_days=1),
            ],  # 1 of 4 goes
        }
    )
    result = run_workflow(data, config=config)
    assert result["status"] == "SUCCEEDED", result
    assert deleted(result, "wiped") == set()
    assert deleted(result, "trimmed") == {digest("t0")}
    assert result["results"]["wiped"]["status"] == "held"
    assert "max_delete_ratio" in result["results"]["wiped"]["held"]


def test_a_protected_repository_and_a_protected_tag_survive(run_workflow):
    config = (
        "protect_tag_patterns: ['release-*']\n"
        "repositories: [{name_pattern: '*', expires: 30d, keep_tag_patterns: []}]\n"
    )
    data = inventory({"vault": _old("v1", "v2"), "app": _old("release-7", "scratch")})
    data["repositories"][0]["tags"] = {"ecr-sweeper:protect": "true"}
    result = run_workflow(data, config=config)
    assert result["status"] == "SUCCEEDED", result
    assert deleted(result, "vault") == set()
    assert deleted(result, "app") == {digest("scratch")}


def test_archive_then_expire_from_the_archive(run_workflow):
    config = (
        "repositories: [{name: app, expires: 30d, keep_tag_patterns: [],"
        " action: archive, archived_expires: 90d}]\n"
    )
    data = inventory({"app": [image("old"), image("new", age_days=1)]})
    first = run_workflow(data, config=config)
    assert first["status"] == "SUCCEEDED", first
    assert deleted(first, "app") == set()
    assert first["repositories"]["app"]["archived"] == [digest("old")]

    # 100 days later, the image has been in the archive longer than archived_expires.
    data["repositories"][0]["images"][0].update(
        status="ARCHIVED", archived_at="2026-08-01T00:00:00Z"
    )
    second = run_workflow(data, config=config)
    assert deleted(second, "app") == {digest("old")}
    assert remaining(second, "app") == {digest("new")}


def test_partial_batch_delete_failures_are_reported_and_fail_the_run(run_workflow):
    data = inventory({"app": _old("a", "b")}, delete_failures={digest("a"): "KmsError"})
    result = run_workflow(data)
    assert result["status"] == "FAILED"
    assert result["error"] == "RepositoriesFailed"
    assert result["results"]["app"]["status"] == "failed"
    assert result["results"]["app"]["failures"] == [
        {"digest": digest("a"), "code": "KmsError", "reason": "injected by the emulator"}
    ]
    assert deleted(result, "app") == {digest("b")}
    assert "app" in result["cause"]
    assert "KmsError" in result["report_md"]
