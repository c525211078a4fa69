"""Safety rails on the emulator: re-check, pull recency, caps, protection, archive."""

from conftest import NOW, deleted, digest, image, inventory, remaining, stamp

# These accounts run nothing: let a scan that finds nothing in use through.
NOTHING_RUNS = "safety: {allow_nothing_in_use: true}\n"


def _old(*labels: str) -> list[dict]:
    return [image(label, tags=[label]) for label in labels]


def test_an_image_pulled_between_the_scan_and_the_deleter_is_skipped(run_workflow, mode):
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
    result = run_workflow(data, from_build=mode)
    assert result["status"] == "SUCCEEDED", result
    assert deleted(result, "app") == {digest("plain")}
    skipped = {s["digest"]: s["reason"] for s in result["results"]["app"]["skipped"]}
    assert skipped == {digest("pulled"): "pulled_during_run", digest("tagged"): "tagged_during_run"}
    assert "pulled" in result["report_md"] and "after the run began" in result["report_md"]


def test_keep_pulled_within_keeps_a_recently_pulled_expired_unused_image(run_workflow):
    config = NOTHING_RUNS + (
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
        "safety: {max_delete_ratio: 0.5, ratio_min_images: 4, allow_nothing_in_use: true}\n"
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
    assert "HELD, nothing deleted" in result["report_md"]


def test_a_protected_repository_and_a_protected_tag_survive(run_workflow):
    config = NOTHING_RUNS + (
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
    config = NOTHING_RUNS + (
        "repositories: [{name: app, expires: 30d, keep_tag_patterns: [],"
        " action: archive, archived_expires: 90d}]\n"
    )
    data = inventory({"app": [image("old"), image("new", age_days=1)]})
    first = run_workflow(data, config=config)
    assert first["status"] == "SUCCEEDED", first
    assert deleted(first, "app") == set()
    assert first["repositories"]["app"]["archived"] == [digest("old")]
    assert "update-image-storage-class" in first["report_md"]  # how to restore

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


def test_max_deletions_exceeded_deletes_nothing_and_notifies(run_workflow):
    config = (
        "safety: {max_deletions: 2, allow_nothing_in_use: true}\n"
        "repositories: [{name_pattern: '*', expires: 30d, keep_tag_patterns: []}]\n"
    )
    data = inventory({"alpha": _old("a1", "a2"), "beta": _old("b1")})
    result = run_workflow(data, config=config)
    assert result["status"] == "FAILED"
    assert result["error"] == "DeletionCapExceeded"
    assert deleted(result, "alpha") == set() and deleted(result, "beta") == set()
    assert "ecr:BatchDeleteImage" not in result["api_calls"]
    message = result["notifications"][-1]["message"]
    assert "CheckCaps" in message and "max_deletions (2)" in message
    # A dry run reports the same plans without failing.
    dry = run_workflow(data, config=config, execution_input=None)
    assert dry["status"] == "SUCCEEDED" and dry["output"]["images_deleted"] == 3


def test_a_deleter_that_crashes_halfway_is_retried_and_finishes_the_job(run_workflow, mode):
    images = [image(f"x{i}", tags=[f"x{i}"]) for i in range(150)]  # two BatchDeleteImage calls
    data = inventory(
        {"app": images},
        faults=[
            # the first chunk goes through; the runtime dies at the second
            {
                "operation": "ecr:BatchDeleteImage",
                "error": "Runtime.ExitError",
                "crash": True,
                "skip": 1,
                "times": 1,
            }
        ],
    )
    config = (
        "safety: {max_delete_ratio: 1.0, allow_nothing_in_use: true}\n"
        "repositories: [{name: app, expires: 30d, keep_tag_patterns: []}]\n"
    )
    result = run_workflow(data, config=config, from_build=mode)
    assert result["status"] == "SUCCEEDED", result
    assert len(deleted(result, "app")) == 150
    app = result["results"]["app"]
    assert len(app["deleted"]) == 150 and len(set(app["deleted"])) == 150  # no double count
    assert app["already_gone"] == []
    assert result["output"]["images_deleted"] == 150
    assert result["api_calls"]["ecr:BatchDeleteImage"] == 3  # 100, crash, then the last 50


def test_overlapping_runs_cannot_both_delete(tmp_path):
    from pathlib import Path

    from sweeper_emulator.emulator import Emulator
    from sweeper_emulator.inventory import inventory_from_dict

    config = Path(tmp_path / "ecrm.yaml")
    config.write_text(
        NOTHING_RUNS + "repositories: [{name: app, expires: 30d, keep_tag_patterns: []}]\n"
    )
    data = inventory({"app": _old(*[f"i{n}" for n in range(5)])})
    with Emulator(inventory_from_dict(data), config_file=config) as emulator:
        first, second = emulator.run_overlapping(['{"dry_run": false}', '{"dry_run": false}'])
        statuses = sorted([first["status"], second["status"]])
        assert statuses == ["FAILED", "SUCCEEDED"], (first, second)
        loser = first if first["status"] == "FAILED" else second
        assert loser["error"] == "RunInProgress"
        # The lock was released: the next run goes through (and finds nothing left).
        again = emulator.run('{"dry_run": false}')
        assert again["status"] == "SUCCEEDED", again


def test_a_stale_lock_from_a_failed_run_does_not_block_the_next(run_workflow, tmp_path):
    from pathlib import Path

    from sweeper_emulator.emulator import Emulator
    from sweeper_emulator.inventory import inventory_from_dict

    config = Path(tmp_path / "ecrm.yaml")
    config.write_text(
        NOTHING_RUNS + "repositories: [{name: app, expires: 30d, keep_tag_patterns: []}]\n"
    )
    data = inventory(
        {"app": _old("a", "b")},
        faults=[{"operation": "ecr:DescribeImages", "error": "AccessDeniedException"}],
    )
    with Emulator(inventory_from_dict(data), config_file=config) as emulator:
        failed = emulator.run('{"dry_run": false}')  # takes the lock, fails, never releases
        assert failed["status"] == "FAILED"
        emulator.inventory.faults.clear()
        after = emulator.run('{"dry_run": false}')
        assert after["status"] == "SUCCEEDED", after
        assert len(after["repositories"]["app"]["deleted"]) == 2


def test_a_scan_that_finds_nothing_in_use_while_sources_are_configured_fails(run_workflow):
    config = (
        "clusters: [{name: prod}]\n"
        "repositories: [{name: app, expires: 30d, keep_tag_patterns: []}]\n"
    )
    data = inventory({"app": _old("a1")}, ecs={"clusters": [{"name": "prod"}]})
    result = run_workflow(data, config=config)
    assert result["status"] == "FAILED"
    assert result["error"] == "NothingInUse"
    assert deleted(result, "app") == set()
    assert "allow_nothing_in_use" in result["notifications"][0]["message"]
