"""Images used only by a scheduled task, a Batch job definition or an App Runner service
survive a delete run while an unused neighbour goes."""

from conftest import deleted, digest, image, inventory, remaining, uri

CONFIG = """
clusters: []
task_definitions: []
lambda_functions: []
repositories: [{name: app, expires: 30d, keep_tag_patterns: []}]
"""


def _app(*used: str) -> dict[str, list[dict]]:
    return {"app": [image(label, tags=[label]) for label in (*used, "unused")]}


def test_eventbridge_rules_and_scheduler_schedules(run_workflow):
    data = inventory(
        _app("by-rule", "by-schedule", "latest-rev"),
        ecs={
            "task_definitions": [
                {"family": "nightly", "revision": 1, "images": [uri("app", ":by-rule")]},
                {"family": "report", "revision": 3, "images": [uri("app", ":by-schedule")]},
                {"family": "report", "revision": 4, "images": [uri("app", ":latest-rev")]},
            ]
        },
        eventbridge_rules=[{"name": "nightly", "task_definition": "nightly:1"}],
        # an unversioned task definition: the latest ACTIVE revision (report:4)
        schedules=[{"name": "weekly-report", "task_definition": "report"}],
    )
    result = run_workflow(data, config=CONFIG)
    assert result["status"] == "SUCCEEDED", result
    assert remaining(result, "app") == {digest("by-rule"), digest("latest-rev")}
    assert deleted(result, "app") == {digest("by-schedule"), digest("unused")}


def test_batch_job_definitions(run_workflow):
    data = inventory(
        _app("batch-newest", "batch-running"),
        batch={
            "job_definitions": [
                {
                    "name": "etl",
                    "revision": 1,
                    "images": [uri("app", ":batch-running")],
                    "status": "INACTIVE",
                },
                {"name": "etl", "revision": 2, "images": [uri("app", ":batch-newest")]},
            ],
            "jobs": [{"queue": "default", "job_definition": "etl:1", "status": "RUNNING"}],
        },
    )
    config = CONFIG.replace(
        "lambda_functions: []", "lambda_functions: []\nsources: {batch_keep_count: 1}"
    )
    result = run_workflow(data, config=config)
    assert result["status"] == "SUCCEEDED", result
    assert deleted(result, "app") == {digest("unused")}


def test_app_runner_services(run_workflow):
    data = inventory(
        _app("runner"),
        app_runner={
            "services": [
                {"name": "api", "image": uri("app", ":runner")},
                {"name": "site", "image": None},
            ]
        },
    )
    result = run_workflow(data, config=CONFIG)
    assert result["status"] == "SUCCEEDED", result
    assert deleted(result, "app") == {digest("unused")}


def test_a_source_turned_off_is_not_read(run_workflow):
    data = inventory(
        _app("runner"), app_runner={"services": [{"name": "api", "image": uri("app", ":runner")}]}
    )
    config = CONFIG.replace(
        "lambda_functions: []",
        "lambda_functions: []\nsources: {app_runner: false}\nsafety: {allow_nothing_in_use: true}",
    )
    result = run_workflow(data, config=config)
    assert "apprunner:ListServices" not in result["api_calls"]
    assert deleted(result, "app") == {digest("runner"), digest("unused")}


def test_access_denied_on_a_new_source_fails_closed(run_workflow):
    data = inventory(
        _app("x"),
        faults=[{"operation": "batch:DescribeJobDefinitions", "error": "AccessDeniedException"}],
    )
    result = run_workflow(data, config=CONFIG)
    assert result["status"] == "FAILED"
    assert all(not r["deleted"] for r in result["repositories"].values())
    assert "ScanInUse" in result["notifications"][0]["message"]


def test_amazon_inspector_as_an_extra_signal(run_workflow):
    data = inventory(
        _app("seen-recently", "seen-long-ago"),
        inspector={
            "images": [
                {
                    "repository": "app",
                    "digest": digest("seen-recently"),
                    "last_in_use_at": "2026-11-20T00:00:00Z",
                    "in_use_count": 2,
                },
                {
                    "repository": "app",
                    "digest": digest("seen-long-ago"),
                    "last_in_use_at": "2026-06-01T00:00:00Z",
                    "in_use_count": 0,
                },
            ]
        },
    )
    config = CONFIG.replace(
        "lambda_functions: []", "lambda_functions: []\nsources: {inspector: true}"
    )
    result = run_workflow(data, config=config)
    assert result["status"] == "SUCCEEDED", result
    assert remaining(result, "app") == {digest("seen-recently")}
    assert result["api_calls"]["inspector2:ListCoverage"] == 1


def test_the_scan_output_and_report_show_each_source_with_its_time(run_workflow):
    data = inventory(
        _app("runner", "listed"),
        app_runner={"services": [{"name": "api", "image": uri("app", ":runner")}]},
        objects=[{"bucket": "scans", "key": "k8s.json", "body": [uri("app", ":listed")]}],
    )
    config = CONFIG.replace(
        "lambda_functions: []",
        "lambda_functions: []\nin_use_lists: [{uri: 's3://scans/k8s.json', max_age: 1d}]",
    )
    result = run_workflow(data, config=config)
    assert result["status"] == "SUCCEEDED", result
    sources = result["report"]["sources"]
    listed = "in-use list s3://scans/k8s.json"  # each list has its own figures
    assert {"ecs", "lambda", "scheduled_tasks", "batch", "apprunner", listed} <= set(sources)
    assert sources["apprunner"]["found"] == 1 and sources[listed]["found"] == 1
    assert all(figures["seconds"] >= 0 for figures in sources.values())
    assert "apprunner: 1 in" in result["report_md"]


def test_ecs_task_sets_of_external_and_code_deploy_services(run_workflow):
    data = inventory(
        _app("blue", "green"),
        ecs={
            "clusters": [{"name": "prod"}],
            "task_definitions": [
                {"family": "web", "revision": 1, "images": [uri("app", ":blue")]},
                {"family": "web", "revision": 2, "images": [uri("app", ":green")]},
            ],
        },
        task_sets=[
            {
                "cluster": "prod",
                "service": "web",
                "task_definition": "web:1",
                "controller": "CODE_DEPLOY",
                "status": "PRIMARY",
            },
            {
                "cluster": "prod",
                "service": "web",
                "task_definition": "web:2",
                "controller": "CODE_DEPLOY",
                "status": "ACTIVE",
            },
        ],
    )
    config = CONFIG.replace("clusters: []", "clusters: [{name: prod}]")
    result = run_workflow(data, config=config)
    assert result["status"] == "SUCCEEDED", result
    assert deleted(result, "app") == {digest("unused")}
