"""InUseScanFunction: the first step. Config, target repositories, the in-use set."""

from typing import Any

from ecr_sweeper import clock, run_lock, steps
from ecr_sweeper.adapters.execution_input import execution_input_text
from ecr_sweeper.errors import DeletingRunsForbidden
from ecr_sweeper.events import ScanEvent, parse_execution_input, parse_execution_input_text
from ecr_sweeper.handlers.common import clients, env, logger, metrics, parse_event


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    scan = parse_event(ScanEvent, event)
    parse_execution_input(scan.input)  # as Step Functions parsed it: a bad one costs no call
    # As the user wrote it: a repeated key is visible only in the text.
    run_input = parse_execution_input_text(
        execution_input_text(clients("stepfunctions"), scan.execution_id)
    )
    logger.append_keys(execution=scan.name)
    dry_run_default = env("DRY_RUN_DEFAULT", "true").lower() != "false"
    dry_run = dry_run_default if run_input.dry_run is None else run_input.dry_run
    # Unset (a half-updated stack) counts as "false": refuse rather than guess.
    if not dry_run and env("ALLOW_DELETING_RUNS", "false").lower() != "true":
        raise DeletingRunsForbidden(
            "this stack only reports (AllowDeletingRuns=false): a run that deletes is "
            "refused, and nothing was read or deleted. This run would have deleted because "
            + (
                'its input says {"dry_run": false}'
                if run_input.dry_run is not None
                else "the stack's DryRun parameter is false (the schedule's runs too)"
            )
            + '. Start a dry run ({"dry_run": true}), or delete with a stack that allows it'
        )
    run = steps.scan_in_use(
        # The stack's ConfigS3Uri or ConfigSsmParameter, else the bundled file.
        config_source=env("CONFIG_SOURCE", "") or env("CONFIG_FILE"),
        execution_name=scan.name,
        dry_run_default=dry_run_default,
        dry_run_override=run_input.dry_run,
        account_id=context.invoked_function_arn.split(":")[4],
        region=env("AWS_REGION"),
        bucket=env("RUN_BUCKET"),
        now=clock.utcnow(),
        max_concurrency=int(env("MAP_MAX_CONCURRENCY", "10")),
        clients=clients,
    )
    metrics.add_metric(name="ImagesInUse", unit="Count", value=run.in_use_images)
    metrics.add_metric(name="RepositoriesTargeted", unit="Count", value=run.repositories)
    if not run.dry_run:
        # Only a deleting run takes the lock: two of them never delete at once, in this
        # stack (the lock in its bucket) or in another stack of this registry.
        run_lock.refuse_if_another_stack_deletes(clients("stepfunctions"), scan.execution_id)
        run_lock.acquire(
            clients("s3"), clients("stepfunctions"), run.bucket, scan.execution_id, run.now
        )
        run = run.model_copy(update={"execution_arn": scan.execution_id})
    return run.model_dump(mode="json")
