"""The `ecr-sweeper` command line (see docs/cli.md).

    ecr-sweeper validate [CONFIG]
    ecr-sweeper plan [--config FILE] [--format table|json] [--repository NAME ...]
    ecr-sweeper scan [-o FILE] [--config FILE]
    ecr-sweeper generate [-o FILE] [--force]
    ecr-sweeper run [--stack NAME] [--input JSON] [--no-follow]
    ecr-sweeper smoke [--stack NAME]
    ecr-sweeper report [EXECUTION] [--stack NAME] [--format table|markdown|json]

`plan`, `scan` and `generate` work locally against the account the AWS
credentials point at, read only. `run`, `smoke` and `report` use the deployed stack.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import click
from botocore.exceptions import BotoCoreError, ClientError

from ecr_sweeper import __version__, clock
from ecr_sweeper.adapters.aws import RETRY_CONFIG
from ecr_sweeper.adapters.config_source import read_config
from ecr_sweeper.core.config import Config, load_config
from ecr_sweeper.core.links import arn_parts, s3_with_link
from ecr_sweeper.core.report import (
    Links,
    Report,
    RepositoryLine,
    console_link,
    link_lines,
    plural,
    render_summary_line,
    render_table,
)
from ecr_sweeper.core.sizes import format_size
from ecr_sweeper.errors import ConfigError, SweeperError, TransientAwsError
from ecr_sweeper.local import (
    GENERATED_SOURCES,
    Account,
    check_repositories,
    generate_config,
    in_use_uris,
    open_account,
    plan_account,
    plan_json,
    reach_aws,
    read_only,
    scan_in_use,
    workflow_logs,
)
from ecr_sweeper.run_progress import ExecutionProgress, failure_in_words
from ecr_sweeper.run_store import REPORT, REPORT_MARKDOWN, RunStore

DEFAULT_CONFIG = "config/ecrm.yaml"
DEFAULT_STACK = "ecr-sweeper"
STACK_ENV = "ECR_SWEEPER_STACK"
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})


NO_REGION = (
    "no AWS region: pass --region, or set AWS_DEFAULT_REGION (or AWS_REGION) "
    "or a region in the profile"
)


@click.group()
@click.version_option(__version__, prog_name="ecr-sweeper")
@click.option("--profile", help="AWS profile to use (default: the usual AWS configuration).")
@click.option(
    "--region",
    help="AWS region (default: AWS_DEFAULT_REGION, then AWS_REGION, then the profile's).",
)
@click.pass_context
def main(ctx: click.Context, profile: str | None, region: str | None) -> None:
    """ecr-sweeper: delete the ECR images that nothing uses (reads ecrm's ecrm.yaml)."""
    ctx.obj = {"profile": profile, "region": region}


def _session(ctx: click.Context) -> Any:
    """A boto3 session for --profile and --region. boto3 reads AWS_DEFAULT_REGION but not
    AWS_REGION (the variable Lambda and most AWS SDKs set): take it when the other is unset."""
    options = ctx.find_root().obj or {}
    region = options.get("region")
    if not region and not os.environ.get("AWS_DEFAULT_REGION"):
        region = os.environ.get("AWS_REGION") or None
    session = boto3.Session(profile_name=options.get("profile"), region_name=region)
    if not session.region_name:
        raise click.ClickException(NO_REGION)
    return session


def aws_errors[F: Callable[..., Any]](command: F) -> F:
    """Report AWS and ecr-sweeper errors as one line on stderr and exit 1, no traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (SweeperError, TransientAwsError) as error:
            raise click.ClickException(str(error)) from error
        except ClientError as error:
            info = error.response.get("Error", {})
            raise click.ClickException(
                f"{error.operation_name}: {info.get('Code', 'Unknown')}: {info.get('Message', '')}"
            ) from error
        except BotoCoreError as error:  # no credentials, unknown profile, no network, ...
            raise click.ClickException(str(error)) from error

    return wrapper  # type: ignore[return-value]


def _stderr(message: str) -> None:
    click.echo(message, err=True)


def _config_clients(ctx: click.Context) -> Callable[[str], Any]:
    """Read-only clients for a config in S3 or SSM; the session is made on first use, so
    a config file needs no credentials and no region."""
    sessions: dict[str, Any] = {}

    def clients(service: str) -> Any:
        if "session" not in sessions:
            sessions["session"] = _session(ctx)
        return read_only(sessions["session"].client(service, config=RETRY_CONFIG))

    return clients


def _load_config(ctx: click.Context, path: str) -> Config:
    config = read_config(path, _config_clients(ctx))
    for warning in config.warnings:
        _stderr(f"warning: {path}: {warning}")
    return config


def _write(path: str, text: str) -> None:
    """Write `text` to `path`, or to stdout if `path` is `-`."""
    if path == "-":
        click.echo(text, nl=False)
    else:
        Path(path).write_text(text)


# ---------------------------------------------------------------------------------------------
# validate
# ---------------------------------------------------------------------------------------------


@main.command()
@click.argument("config", default=DEFAULT_CONFIG)
@click.pass_context
def validate(ctx: click.Context, config: str) -> None:
    """Check CONFIG (an ecrm.yaml; default: config/ecrm.yaml) and summarise its rules.

    CONFIG may also be the copy a stack reads (its ConfigS3Uri or ConfigSsmParameter):
    s3://BUCKET/KEY or ssm:/PATH/NAME, read with the usual AWS credentials.

    Exits 0 if the config is valid (warnings go to stderr), 1 if not.
    """
    try:
        parsed = read_config(config, _config_clients(ctx))
    except (ConfigError, TransientAwsError, click.ClickException) as e:
        click.echo(e.format_message() if isinstance(e, click.ClickException) else str(e), err=True)
        sys.exit(1)
    except BotoCoreError as e:  # no credentials, unknown profile, no network, ...
        click.echo(f"{config}: {e}", err=True)
        sys.exit(1)
    click.echo(f"OK: {config}: {summary(parsed)}")
    for warning in parsed.warnings:
        click.echo(f"warning: {config}: {warning}", err=True)


def summary(config: Config) -> str:
    """`2 repository rules, 1 cluster rule, ...`; a section that is absent is `not configured`."""
    parts = []
    for section, noun in (
        ("repositories", "repository rule"),
        ("clusters", "cluster rule"),
        ("task_definitions", "task definition rule"),
        ("lambda_functions", "Lambda function rule"),
    ):
        rules = getattr(config, section)
        if rules is None:
            parts.append(f"{section} not configured")
        else:
            parts.append(f"{len(rules)} {noun}{'' if len(rules) == 1 else 's'}")
    return ", ".join(parts)


# ---------------------------------------------------------------------------------------------
# plan, scan, generate: local and read only
# ---------------------------------------------------------------------------------------------

config_option = click.option(
    "--config",
    "config_path",
    default=DEFAULT_CONFIG,
    show_default=True,
    help="The ecrm.yaml to use: a file, s3://BUCKET/KEY or ssm:/PATH/NAME.",
)
output_option = click.option(
    "-o",
    "--output",
    default="-",
    show_default=True,
    type=click.Path(allow_dash=True),
    help="File to write (`-`: stdout).",
)


def _progress(label: str) -> Callable[[list[str]], Iterator[str]]:
    def bar(items: list[str]) -> Iterator[str]:
        with click.progressbar(
            items,
            label=label,
            file=click.get_text_stream("stderr"),
            item_show_func=lambda item: item,
        ) as progress:
            yield from progress

    return bar


def _open_account(ctx: click.Context) -> Account:
    account = open_account(_session(ctx))
    _stderr(f"account {account.account_id}, region {account.region}")
    return account


@main.command()
@config_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table: ecrm's table; json: every image's decision and why.",
)
@click.option(
    "--repository",
    "repositories",
    multiple=True,
    metavar="NAME",
    help="Only this repository (repeatable). It must match a repository rule.",
)
@click.pass_context
@aws_errors
def plan(
    ctx: click.Context, config_path: str, output_format: str, repositories: tuple[str, ...]
) -> None:
    """Show what a run would delete, computed locally; nothing is deleted or written.

    Runs the workflow's own steps as a dry run, in this process, on the account
    and region the AWS credentials point at: the in-use scan, then Collect and
    Evaluate for every repository that a rule matches. No stack or bucket is
    needed. Exits 1 if a run would end FAILED.
    """
    config = _load_config(ctx, config_path)
    account = _open_account(ctx)
    if repositories:
        check_repositories(account, config, repositories)
    _stderr("scanning the config's sources for images in use ...")
    with workflow_logs(sys.stderr):
        local = plan_account(
            account,
            config_path,
            clock.utcnow(),
            repositories=repositories,
            progress=_progress("reading repositories"),
        )
    if output_format == "json":
        click.echo(json.dumps(plan_json(local, account, config_path), indent=2))
    else:
        click.echo(_report_text(local.report))
    planned, limit = local.caps.get("planned", 0), local.caps.get("limit")
    if limit is not None and planned > limit:
        _stderr(
            f"warning: the plans delete {planned} images, more than safety.max_deletions "
            f"({limit}): a deleting run would delete nothing"
        )
    if local.failure:
        raise click.ClickException(f"a run would end FAILED: {local.failure}")


@main.command()
@output_option
@config_option
@click.pass_context
@aws_errors
def scan(ctx: click.Context, output: str, config_path: str) -> None:
    """Write the images in use, as `ecrm scan -o FILE` does: a JSON array of image URIs.

    Each digest and tag in use appears as `<registry>/<repo>@<digest>` and
    `<registry>/<repo>:<tag>`, sorted. The set is the one the workflow's in-use
    scan builds from the config's clusters, task_definitions and
    lambda_functions sections.
    """
    _load_config(ctx, config_path)
    account = _open_account(ctx)
    with workflow_logs(sys.stderr):
        in_use = scan_in_use(account, config_path, clock.utcnow())
    uris = in_use_uris(in_use, account.registry)
    _write(output, json.dumps(uris, indent=2) + "\n")
    sources = ", ".join(f"{name} {count}" for name, count in in_use.sources.items()) or "none"
    ignored = ", ".join(f"{why} {count}" for why, count in in_use.ignored.items()) or "none"
    where = "stdout" if output == "-" else output
    _stderr(f"{len(uris)} image URIs in use to {where} (sources: {sources}; ignored: {ignored})")


@main.command()
@output_option
@click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")
@click.pass_context
@aws_errors
def generate(ctx: click.Context, output: str, force: bool) -> None:
    """Write an ecrm.yaml for the account, as `ecrm generate` does.

    One rule per name prefix (the name up to its first `/`, `_` or `-`, then
    `*`) for the ECS clusters, task definition families, container image Lambda
    functions and ECR repositories. Repositories get expires 30d, keep_count 5
    and keep_tag_patterns [latest]. Review the result before you deploy it.
    """
    if output != "-" and Path(output).exists() and not force:
        raise click.ClickException(f"{output} exists; pass --force to overwrite it")
    account = _open_account(ctx)
    generated = generate_config(account)
    _write(output, generated.text)
    if output != "-":
        _stderr(f"wrote {output}: {summary(load_config(generated.text, source=output))}")
    for section in generated.catch_all:
        _stderr(
            f"note: no {GENERATED_SOURCES[section]} found: {section} scans every one "
            '(name_pattern "*"), so one created later is seen'
        )


# ---------------------------------------------------------------------------------------------
# run, smoke, report: the deployed stack
# ---------------------------------------------------------------------------------------------

stack_option = click.option(
    "--stack",
    default=DEFAULT_STACK,
    show_default=True,
    envvar=STACK_ENV,
    help=f"The deployed CloudFormation stack (env {STACK_ENV}).",
)


@dataclass
class Deployment:
    """What the CLI needs of a deployed stack: its outputs."""

    stack: str
    state_machine_arn: str
    bucket: str
    session: Any

    def client(self, service: str) -> Any:
        return self.session.client(service, config=RETRY_CONFIG)

    def run_store(self, execution_name: str) -> RunStore:
        return RunStore(self.bucket, f"runs/{execution_name}", self.client("s3"))


def find_deployment(session: Any, stack: str) -> Deployment:
    """The state machine and run bucket, from the stack's outputs. AWS is reached first
    with short timeouts (local.reach_aws): a machine offline fails in seconds."""
    reach_aws(session)
    cloudformation = session.client("cloudformation", config=RETRY_CONFIG)
    try:
        stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as error:
        if "does not exist" in error.response.get("Error", {}).get("Message", ""):
            raise click.ClickException(
                f"stack {stack!r} not found in {session.region_name}: deploy it "
                f"(sam deploy) or name yours with --stack"
            ) from error
        raise
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    missing = [key for key in ("StateMachineArn", "RunBucketName") if key not in outputs]
    if missing:
        raise click.ClickException(
            f"stack {stack!r} has no output {', '.join(missing)}: is it an ecr-sweeper stack?"
        )
    return Deployment(stack, outputs["StateMachineArn"], outputs["RunBucketName"], session)


def new_execution_name(prefix: str = "cli") -> str:
    """`<prefix>-<UTC time>-<random>`: sorts by start time, names the run's S3 prefix."""
    return f"{prefix}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def execution_name(execution: str) -> str:
    """An execution's name, from its name or its ARN."""
    return execution.rsplit(":", 1)[-1] if execution.startswith("arn:") else execution


def _result_line(line: RepositoryLine, dry_run: bool) -> str:
    verb = "would delete" if dry_run else "deleted"
    text = (
        f"{line.repository}: {verb} {plural(line.deleted, 'image')} "
        f"({format_size(line.bytes_reclaimed)})"
    )
    if line.archived_now:
        text += (
            f", {'would archive' if dry_run else 'archived'} {line.archived_now} "
            f"({format_size(line.bytes_archived)})"
        )
    if line.status == "held":
        text += f": HELD, nothing deleted ({line.held})"
    elif line.status == "failed":
        text += f": FAILED: {line.error or 'did not finish'}"
    return text


def _report_text(report: Report) -> str:
    return f"{render_table(report)}\n\n{render_summary_line(report)}"


poll_option = click.option(
    "--poll-interval",
    default=5.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds between two looks at a running execution.",
)


def _start(deployment: Deployment, execution_input: str | None, prefix: str = "cli") -> str:
    """Start the stack's state machine; its execution ARN."""
    arguments = {
        "stateMachineArn": deployment.state_machine_arn,
        "name": new_execution_name(prefix),
    }
    if execution_input is not None:
        arguments["input"] = execution_input
    return str(deployment.client("stepfunctions").start_execution(**arguments)["executionArn"])


def _follow(
    deployment: Deployment, arn: str, poll_interval: float, look: Callable[[], None]
) -> dict[str, Any]:
    """Wait for the execution to end, calling `look` after each DescribeExecution; the
    final description. Ctrl-C stops following (exit 130); the execution goes on."""
    sfn = deployment.client("stepfunctions")
    try:
        while True:
            description: dict[str, Any] = sfn.describe_execution(executionArn=arn)
            # `look` comes after the status: once it is final, `look` sees everything.
            look()
            if description["status"] in TERMINAL:
                return description
            time.sleep(poll_interval)
    except KeyboardInterrupt:
        _stderr(f"\nstopped following; the execution goes on: {arn}")
        sys.exit(130)


def _print_report(store: RunStore) -> bool:
    """The run's table and summary line, after a blank line; False if it has no report."""
    if not store.exists(REPORT):
        return False
    click.echo("")
    click.echo(_report_text(store.get_model(REPORT, Report)))
    return True


def _exit_on_status(name: str, description: dict[str, Any]) -> None:
    """Say how the execution ended; exit 1, with its error and cause, unless it SUCCEEDED."""
    status = description["status"]
    _stderr(f"execution {name}: {status}")
    if status != "SUCCEEDED":
        _stderr(failure_in_words(description.get("error"), description.get("cause")))
        sys.exit(1)


@main.command()
@stack_option
@click.option(
    "--input",
    "execution_input",
    metavar="JSON",
    help="Execution input: '{\"dry_run\": true}' or '{\"dry_run\": false}' "
    "(default: the stack's DryRun parameter).",
)
@click.option(
    "--no-follow", is_flag=True, help="Print the execution ARN and return without waiting."
)
@poll_option
@click.pass_context
@aws_errors
def run(
    ctx: click.Context,
    stack: str,
    execution_input: str | None,
    no_follow: bool,
    poll_interval: float,
) -> None:
    """Start the deployed state machine and follow the run to its report.

    Prints, when the run ends, each repository it deleted from (or would), held or
    failed, then the run's table. Exits 0 if the execution SUCCEEDED, 1 otherwise.
    """
    if execution_input is not None:
        try:
            json.loads(execution_input)
        except json.JSONDecodeError as error:
            raise click.BadParameter(f"not JSON: {error}", param_hint="--input") from error
    deployment = find_deployment(_session(ctx), stack)
    arn = _start(deployment, execution_input)
    if no_follow:
        click.echo(arn)
        return
    name = execution_name(arn)
    _stderr(f"started {arn}")
    store = deployment.run_store(name)
    progress = ExecutionProgress(deployment.client("stepfunctions"), arn)

    def print_progress() -> None:
        for line in progress.look():
            _stderr(line)

    description = _follow(deployment, arn, poll_interval, print_progress)
    # Each repository's result travels in the Maps' results: the report gathers them.
    if store.exists("report.json"):
        report = store.get_model("report.json", Report)
        for line in report.repositories:
            if line.deleted or line.archived_now or line.status != "ok":
                click.echo(_result_line(line, report.dry_run))
    _print_report(store)
    _exit_on_status(name, description)


@main.command()
@stack_option
@poll_option
@click.pass_context
@aws_errors
def smoke(ctx: click.Context, stack: str, poll_interval: float) -> None:
    """Check a deployed stack end to end with a dry run: nothing is deleted.

    Finds the state machine in the stack's outputs, starts it with
    {"dry_run": true} and follows it: each phase, and the repositories planned
    and swept so far. Ends with the run's table, where its report is and the
    console links. Exits 0 only if the run SUCCEEDED; otherwise prints its
    error and cause and exits 1.
    """
    deployment = find_deployment(_session(ctx), stack)
    arn = _start(deployment, json.dumps({"dry_run": True}), prefix="smoke")
    name = execution_name(arn)
    _stderr(f"started {arn} (dry run)")
    progress = ExecutionProgress(deployment.client("stepfunctions"), arn)

    def print_progress() -> None:
        for line in progress.look():
            _stderr(line)

    description = _follow(deployment, arn, poll_interval, print_progress)
    store = deployment.run_store(name)
    has_report = _print_report(store)
    partition, region = arn_parts(arn)
    links = Links(
        execution=console_link(arn),
        plan_map_run=console_link(progress.map_runs.get("plan", "")),
        sweep_map_run=console_link(progress.map_runs.get("sweep", "")),
        report=s3_with_link(partition, region, deployment.bucket, store.key(REPORT_MARKDOWN))
        if has_report
        else "",
    )
    click.echo("")
    click.echo("\n".join(link_lines(links)))
    if not has_report:
        _stderr("no report: the run ended before its Summarize step wrote one")
    _exit_on_status(name, description)


def _latest_execution(deployment: Deployment) -> str:
    sfn = deployment.client("stepfunctions")
    executions = [
        execution
        for page in sfn.get_paginator("list_executions").paginate(
            stateMachineArn=deployment.state_machine_arn
        )
        for execution in page["executions"]
    ]
    if not executions:
        raise click.ClickException(f"no execution of {deployment.state_machine_arn} yet")
    latest = max(executions, key=lambda e: e["startDate"])
    if latest["status"] == "RUNNING":
        _stderr(f"note: the latest execution {latest['name']} is still running")
    return str(latest["name"])


@main.command()
@click.argument("execution", required=False)
@stack_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "markdown", "json"]),
    default="table",
    show_default=True,
)
@click.pass_context
@aws_errors
def report(ctx: click.Context, execution: str | None, stack: str, output_format: str) -> None:
    """Print a past run's report (default: the latest execution's).

    EXECUTION is an execution name or ARN. The report is the run's
    runs/<execution>/report.json (report.md for markdown) in the run bucket.
    """
    deployment = find_deployment(_session(ctx), stack)
    name = execution_name(execution) if execution else _latest_execution(deployment)
    store = deployment.run_store(name)
    if not store.exists(REPORT):
        raise click.ClickException(
            f"execution {name} has no report (s3://{deployment.bucket}/{store.key(REPORT)}"
            "): it is still running, or it failed before Summarize"
        )
    if output_format == "markdown":
        click.echo(store.get_text(REPORT_MARKDOWN))
        return
    loaded = store.get_model(REPORT, Report)
    if output_format == "json":
        click.echo(loaded.model_dump_json(indent=2))
    else:
        _stderr(f"execution {name} ({'dry run' if loaded.dry_run else 'delete'}), {loaded.now}")
        click.echo(_report_text(loaded))


if __name__ == "__main__":
    main(prog_name="ecr-sweeper")
