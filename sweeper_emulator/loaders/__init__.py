"""Loading an inventory into the mocked account: one module per source, each with a
`load_<source>(section, account, region)` that creates the section's resources in moto
(through the service's API where moto's API can express them, in moto's models where it
cannot), or in the emulator's own backend for a served API (served/).

`load_workloads` loads what every account has (the `Workloads` sections of the account
and of each member account), in order; `load_account` loads the whole inventory. A new
source of "in use": its section in `inventory.Workloads`, a module here, one line in
`load_workloads`. See docs/emulator.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from sweeper_emulator.inventory import Inventory, Workloads
from sweeper_emulator.loaders.app_runner import load_app_runner
from sweeper_emulator.loaders.batch import load_batch
from sweeper_emulator.loaders.ecr import load_repositories
from sweeper_emulator.loaders.ecs import load_ecs, load_task_sets
from sweeper_emulator.loaders.eks import load_eks
from sweeper_emulator.loaders.inspector import load_inspector
from sweeper_emulator.loaders.lambda_functions import load_lambda
from sweeper_emulator.loaders.s3 import load_objects
from sweeper_emulator.loaders.scheduled_tasks import load_scheduled_tasks
from sweeper_emulator.moto_patches import ecs_revisions


def load_workloads(workloads: Workloads, account: str, region: str) -> None:
    """What runs in one account and region. ECS first: task sets use its task
    definitions."""
    load_ecs(workloads.ecs, account, region)
    load_lambda(workloads.lambda_, account, region)
    load_scheduled_tasks(workloads.eventbridge_rules, workloads.schedules, account, region)
    load_batch(workloads.batch, account, region)
    load_task_sets(workloads.task_sets, account, region)
    load_app_runner(workloads.app_runner, account, region)
    load_eks(workloads.eks, account, region)


@contextmanager
def _moto_account(account_id: str) -> Iterator[None]:
    """The loaders' calls made in `account_id` (loading runs before any handler, on one
    thread)."""
    os.environ["MOTO_ACCOUNT_ID"] = account_id
    try:
        yield
    finally:
        del os.environ["MOTO_ACCOUNT_ID"]


def load_account(inventory: Inventory) -> None:
    """The whole inventory: the account's repositories, workloads and objects, the
    Inspector coverage, and each member account's workloads in its own account."""
    account, region = inventory.account_id, inventory.region
    load_repositories(inventory.repositories, account, region)
    load_workloads(inventory, account, region)
    load_objects(inventory.objects, account, region)
    for member in inventory.accounts:
        with _moto_account(member.account_id):
            load_workloads(member, member.account_id, member.region)
    load_inspector(inventory.inspector, account, region)
    ecs_revisions.load(inventory)
