"""python -m sweeper_emulator run --inventory FILE [--config FILE] [--input JSON]
[--result FILE] [--from-build DIR]"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import click

from sweeper_emulator.emulator import Emulator
from sweeper_emulator.inventory import load_inventory
from sweeper_emulator.runtime import ROOT
from sweeper_emulator.template import load_template


def parameter_problem(name: str, spec: dict[str, Any], value: str) -> str | None:
    """What CloudFormation would refuse in `value` for the parameter `spec`, or None."""
    allowed = spec.get("AllowedValues")
    if spec.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            return f"{name} must be a number"
        if allowed is not None and number not in [float(v) for v in allowed]:
            return f"{name} must be one of {', '.join(str(v) for v in allowed)}"
        if "MinValue" in spec and number < float(spec["MinValue"]):
            return f"{name} must be at least {spec['MinValue']}"
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            return f"{name} must be at most {spec['MaxValue']}"
        return None
    if allowed is not None and value not in [str(v) for v in allowed]:
        return f"{name} must be one of {', '.join(str(v) for v in allowed)}"
    pattern = spec.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(pattern, value):
        return f"{name} must match {pattern}"
    if len(value) < int(spec.get("MinLength", 0)):
        return f"{name} must have at least {spec['MinLength']} characters"
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        return f"{name} must have at most {spec['MaxLength']} characters"
    return None


def parse_parameters(
    ctx: click.Context, param: click.Parameter, given: tuple[str, ...]
) -> dict[str, str]:
    """`KEY=VALUE` overrides, checked against template.yaml's Parameters as CloudFormation
    checks them at deploy time: a known name, and a value its constraints allow."""
    specs: dict[str, Any] = load_template(ROOT / "template.yaml").get("Parameters", {})
    overrides: dict[str, str] = {}
    for item in given:
        name, equals, value = item.partition("=")
        if not equals:
            raise click.BadParameter(f"{item!r}: write KEY=VALUE, e.g. DryRun=false", ctx, param)
        if name not in specs:
            raise click.BadParameter(
                f"{name!r} is not a template parameter (known: {', '.join(sorted(specs))})",
                ctx,
                param,
            )
        problem = parameter_problem(name, specs[name], value)
        if problem:
            raise click.BadParameter(f"{item!r}: {problem}", ctx, param)
        overrides[name] = value
    return overrides


@click.group()
def main() -> None:
    """Run ecr-sweeper's real workflow on a local emulated AWS account (moto)."""


@main.command()
@click.option(
    "--inventory",
    "inventory_path",
    required=True,
    type=click.Path(exists=True),
    help="The account to emulate (see docs/emulator.md).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True),
    help="An ecrm.yaml to use instead of the one the template ships (config/ecrm.yaml).",
)
@click.option("--input", "execution_input", help="Execution input, e.g. '{\"dry_run\": false}'.")
@click.option("--result", "result_path", type=click.Path(), help="Write the result JSON here.")
@click.option(
    "--parameter",
    "parameters",
    multiple=True,
    metavar="KEY=VALUE",
    callback=parse_parameters,
    help="Override a template parameter (repeatable), within its AllowedValues, "
    "AllowedPattern and bounds.",
)
@click.option(
    "--from-build",
    "build_dir",
    type=click.Path(exists=True, file_okay=False),
    help="A `sam build` output folder: run each function from its artifact, in a process "
    "of its own (the artifact mode; `make artifact` builds one for this machine).",
)
@click.option("--verbose", is_flag=True, help="Show the handlers' logs.")
def run(
    inventory_path: str,
    config_path: str | None,
    execution_input: str | None,
    result_path: str | None,
    parameters: dict[str, str],
    build_dir: str | None,
    verbose: bool,
) -> None:
    """Deploy the stack on moto, load the inventory, run one execution. Exit 0 iff SUCCEEDED."""
    try:
        inventory = load_inventory(inventory_path)
    except Exception as error:  # pydantic/JSON errors: say what is wrong, no traceback
        raise click.ClickException(f"{inventory_path}: {error}") from error
    with Emulator(
        inventory,
        config_file=Path(config_path) if config_path else None,
        parameters=parameters,
        verbose=verbose,
        from_build=Path(build_dir) if build_dir else None,
    ) as emulator:
        result = emulator.run(execution_input, watch=_progress_printer())
        report = _report_text(emulator, result)
    if result_path:
        Path(result_path).write_text(json.dumps(result, indent=2, default=str) + "\n")
    click.echo(report)
    sys.exit(0 if result["status"] == "SUCCEEDED" else 1)


@main.command()
@click.option(
    "--build-dir",
    type=click.Path(file_okay=False),
    help="Where to build (default .aws-sam/build-host).",
)
def build(build_dir: str | None) -> None:
    """`sam build` for this machine's architecture: the folder `run --from-build` takes."""
    from sweeper_emulator.build import build as sam_build

    try:
        click.echo(sam_build(build_dir=Path(build_dir) if build_dir else None))
    except RuntimeError as error:
        raise click.ClickException(str(error)) from error


def _progress_printer() -> Any:
    """What `ecr-sweeper run` prints while a run goes on (the phase, "repositories
    planned N of M"), on stderr: stdout is the report."""
    from ecr_sweeper.run_progress import ExecutionProgress

    progress: dict[str, ExecutionProgress] = {}

    def watch(sfn: Any, execution_arn: str) -> None:
        looker = progress.setdefault(execution_arn, ExecutionProgress(sfn, execution_arn))
        for line in looker.look():
            click.echo(line, err=True)

    return watch


def _report_text(emulator: Emulator, result: dict) -> str:
    """The ecrm-style table from the run's own report, then what ECR now holds."""
    from ecr_sweeper.core.report import Report, plural, render_summary_line, render_table

    name = result["execution_arn"].rsplit(":", 1)[-1]
    lines = [f"execution {name}: {result['status']}"]
    try:
        report = Report.model_validate_json(emulator.read_run_file(name, "report.json"))
    except Exception:
        report = None
    if report is not None:
        lines += ["", render_table(report), "", render_summary_line(report)]
        if report.changes:
            lines += [f"Since {report.previous_execution}: {change}" for change in report.changes]
    changed = [
        (verb, repository, digests)
        for repository, outcome in result["repositories"].items()
        for verb, digests in (
            ("Deleted", outcome["deleted"]),
            ("Archived", outcome["archived_now"]),
        )
        if digests
    ]
    if changed:
        lines.append("")
        for verb, repository, digests in changed:
            lines.append(f"{verb} {plural(len(digests), 'image')} on {repository}:")
            lines += [f"  {digest}" for digest in digests]
    elif report is not None and report.dry_run:
        lines += ["", "To delete what it would: --input '{\"dry_run\": false}'"]
    elif report is not None:
        lines += ["", "Nothing was deleted or archived."]
    if result["status"] != "SUCCEEDED":
        lines += ["", f"error: {result.get('error')}", f"cause: {result.get('cause')}"]
        lines += [f"notification: {n['subject']}\n{n['message']}" for n in result["notifications"]]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
