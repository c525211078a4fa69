"""python -m sweeper_emulator run --inventory FILE [--config FILE] [--input JSON]
[--result FILE] [--from-build DIR]"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from sweeper_emulator.emulator import Emulator
from sweeper_emulator.inventory import load_inventory


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
    help="Override a template parameter (repeatable).",
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
    parameters: tuple[str, ...],
    build_dir: str | None,
    verbose: bool,
) -> None:
    """Deploy the stack on moto, load the inventory, run one execution. Exit 0 iff SUCCEEDED."""
    try:
        inventory = load_inventory(inventory_path)
    except Exception as error:  # pydantic/JSON errors: say what is wrong, no traceback
        raise click.ClickException(f"{inventory_path}: {error}") from error
    overrides = dict(p.split("=", 1) for p in parameters)
    with Emulator(
        inventory,
        config_file=Path(config_path) if config_path else None,
        parameters=overrides,
        verbose=verbose,
        from_build=Path(build_dir) if build_dir else None,
    ) as emulator:
        result = emulator.run(execution_input)
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


def _report_text(emulator: Emulator, result: dict) -> str:
    """The ecrm-style table from the run's own report, then what ECR now holds."""
    from ecr_sweeper.core.report import Report, render_summary_line, render_table

    name = result["execution_arn"].rsplit(":", 1)[-1]
    lines = [f"execution {name}: {result['status']}"]
    try:
        report = Report.model_validate_json(emulator.read_run_file(name, "report.json"))
    except Exception:
        report = None
    if report is not None:
        lines += ["", render_table(report), "", render_summary_line(report)]
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
            lines.append(f"{verb} {len(digests)} images on {repository}:")
            lines += [f"  {digest}" for digest in digests]
    elif report is not None and report.dry_run:
        lines += ["", "Dry run: nothing was deleted. To delete: --input '{\"dry_run\": false}'"]
    elif report is not None:
        lines += ["", "Nothing was deleted or archived."]
    if result["status"] != "SUCCEEDED":
        lines += ["", f"error: {result.get('error')}", f"cause: {result.get('cause')}"]
        lines += [f"notification: {n['subject']}\n{n['message']}" for n in result["notifications"]]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
