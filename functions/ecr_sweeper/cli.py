"""The `ecr-sweeper` command line.

python -m ecr_sweeper.cli validate [CONFIG]
"""

from __future__ import annotations

import sys

import click

from ecr_sweeper.core.config import Config, load_config_file
from ecr_sweeper.errors import ConfigError

DEFAULT_CONFIG = "config/ecrm.yaml"


@click.group()
def main() -> None:
    """ecr-sweeper: delete the ECR images that nothing uses (reads ecrm's ecrm.yaml)."""


@main.command()
@click.argument("config", default=DEFAULT_CONFIG, type=click.Path())
def validate(config: str) -> None:
    """Check CONFIG (an ecrm.yaml; default: config/ecrm.yaml) and summarise its rules.

    Exits 0 if the config is valid (warnings go to stderr), 1 if not.
    """
    try:
        parsed = load_config_file(config)
    except ConfigError as e:
        click.echo(str(e), err=True)
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


if __name__ == "__main__":
    main()
