"""SummaryFunction: the report, the run's verdict, and the success notification."""

from typing import Any

from ecr_sweeper import steps
from ecr_sweeper.adapters.map_results import inline_results, read_child_results
from ecr_sweeper.core.report import Links, RepositoryResult, console_link
from ecr_sweeper.errors import AwsRequestError, RunDataError
from ecr_sweeper.events import SummaryEvent
from ecr_sweeper.handlers.common import clients, env, logger, metrics, parse_event


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    summary = parse_event(SummaryEvent, event)
    logger.append_keys(execution=summary.run.execution_name)
    links = Links(
        execution=console_link(summary.execution_id),
        plan_map_run=console_link(summary.plan_map_run),
        sweep_map_run=console_link(summary.sweep_map_run),
    )
    # Each Map's results: the results that travelled inline (the plans not swept, the
    # deleters that finished), why a repository's child execution failed, and each
    # child's ARN. Without them a repository has no result, and the run ends FAILED
    # (never a false success).
    failures: dict[str, str] = {}
    executions: dict[str, dict[str, str]] = {}
    traces: dict[str, list[str]] = {}
    inline: dict[str, list[RepositoryResult]] = {"plan": [], "sweep": []}
    for phase, where in (("plan", summary.plan_results), ("sweep", summary.sweep_results)):
        if where is None:
            continue
        try:
            children = read_child_results(clients("s3"), where, summary.run.bucket)
        except (AwsRequestError, RunDataError) as error:  # the report says less, still
            logger.warning("the Map results could not be read", extra={"error": str(error)})
            continue
        failures.update(children.failed)
        traces.update(children.traces)
        for repository, arn in children.executions.items():
            executions.setdefault(repository, {})[phase] = arn
        inline[phase] = inline_results(children.succeeded, phase)
    try:
        output, report = steps.summarize_run(
            summary.run,
            clients,
            links=links,
            notify_on_success=env("NOTIFY_ON_SUCCESS", "false").lower() == "true",
            failures=failures,
            executions=executions,
            traces=traces,
            execution_arn=summary.execution_id,
            planned=inline["plan"],
            swept=inline["sweep"],
            plan_results_key=summary.plan_results.key if summary.plan_results else "",
        )
    except Exception:
        metrics.add_metric(name="RunsFailed", unit="Count", value=1)
        raise
    metrics.add_metric(name="RunsSucceeded", unit="Count", value=1)
    metrics.add_metric(name="RepositoriesFailed", unit="Count", value=len(report.failed))
    return output.model_dump(mode="json")
