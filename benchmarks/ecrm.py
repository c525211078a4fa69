"""The calls ecrm (v0.7.2) makes on a benchmark account, to estimate its time beside ours.

ecrm makes one call after the other, with the SDK's default page sizes where it sets
none: ECR DescribeRepositories and DescribeImages 100, ECS ListServices 10, ListTasks,
ListClusters and ListTaskDefinitionFamilies 100, Lambda ListFunctions 50. It lists
every task definition family and every function (no prefix), asks ListTaskDefinitions
for `keep_count` revisions of each selected family, pages ListVersionsByFunction by
`keep_count`, describes every task definition it finds on every run (no cache), reads
the manifests of kept image indexes only, and deletes in batches of 100. It reads no
protection tag and takes no second look before deleting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import ceil

from benchmarks import synthetic
from benchmarks.floor import pages


@dataclass(frozen=True)
class EcrmAccount:
    """What ecrm's calls depend on, counted on the account."""

    repositories: int  # every repository of the registry (DescribeRepositories lists all)
    images: Sequence[int]  # per target repository, the images present
    kept_indexes: Sequence[int]  # per target repository, image indexes it keeps
    deletions: Sequence[int]  # per target repository
    clusters: int
    selected_clusters: Sequence[tuple[int, int, int]]  # (services, RUNNING, STOPPED tasks)
    families: int  # every family of the account
    selected_families: int
    task_definitions: int  # distinct revisions found (services, tasks, kept revisions)
    functions: int  # every function of the account
    selected_function_versions: Sequence[int]  # per selected image function, with $LATEST
    lambda_keep_count: int
    kept_versions: int  # versions it reads the image of (GetFunction)


def ecrm_calls(account: EcrmAccount) -> dict[str, int]:
    """ecrm's calls for one `delete` run (its plan, then its deletions)."""
    a = account
    return {
        "ecr:DescribeRepositories": pages(a.repositories, 100),
        "ecr:DescribeImages": sum(pages(n, 100) for n in a.images),
        "ecr:BatchGetImage": sum(ceil(n / 100) for n in a.kept_indexes),
        "ecr:BatchDeleteImage": sum(ceil(n / 100) for n in a.deletions),
        "ecs:ListClusters": pages(a.clusters, 100),
        # RUNNING then STOPPED, each paged; DescribeTasks over both lists together.
        "ecs:ListTasks": sum(pages(r, 100) + pages(s, 100) for _, r, s in a.selected_clusters),
        "ecs:DescribeTasks": sum(ceil((r + s) / 100) for _, r, s in a.selected_clusters),
        "ecs:ListServices": sum(pages(n, 10) for n, _, _ in a.selected_clusters),
        "ecs:DescribeServices": sum(ceil(n / 10) for n, _, _ in a.selected_clusters),
        "ecs:ListTaskDefinitionFamilies": pages(a.families, 100),
        "ecs:ListTaskDefinitions": a.selected_families,
        "ecs:DescribeTaskDefinition": a.task_definitions,
        "lambda:ListFunctions": pages(a.functions, 50),
        "lambda:ListVersionsByFunction": sum(
            pages(n, a.lambda_keep_count) for n in a.selected_function_versions
        ),
        "lambda:ListAliases": len(a.selected_function_versions),
        "lambda:GetFunction": a.kept_versions,
    }


def from_account(
    account: synthetic.Account, *, present: dict[str, set[str]], deleted: dict[str, set[str]]
) -> EcrmAccount:
    """The counts of a benchmark account: `present` the digests of each target repository
    when the run starts, `deleted` those the run deletes."""
    targets = list(account.images)
    selected = [
        (c["services"], c["tasks"]["RUNNING"], c["tasks"]["STOPPED"])
        for name, c in account.clusters.items()
        if name in synthetic.SELECTED_CLUSTERS
    ]
    functions = [f for name, f in account.functions.items() if name.startswith("fn-")]
    return EcrmAccount(
        repositories=len(account.inventory["repositories"]),
        images=[len(present[n]) for n in targets],
        kept_indexes=[
            sum(
                1
                for i in account.images[n]
                if i.manifests and i.digest in present[n] and i.digest not in deleted[n]
            )
            for n in targets
        ],
        deletions=[len(deleted[n]) for n in targets],
        clusters=len(account.clusters),
        selected_clusters=selected,
        families=len(account.task_definitions),
        selected_families=sum(1 for f in account.task_definitions if f.startswith("app-")),
        task_definitions=len(account.needed_revisions),
        functions=len(account.functions),
        selected_function_versions=[f["versions"] for f in functions],
        lambda_keep_count=synthetic.LAMBDA_KEEP_COUNT,
        kept_versions=account.kept_versions,
    )
