"""The floor: the fewest API calls a run can make on an account, from the inventory alone.

Each term is one operation, with its formula (shown in docs/benchmarks.md). The page
sizes are each API's maximum. S3 calls (the run's own data) are not part of the floor;
the benchmark reports them apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from math import ceil

from benchmarks.synthetic import SELECTED_CLUSTERS, Account


def pages(items: int, size: int) -> int:
    """A listing makes one call even when there is nothing to list."""
    return max(1, ceil(items / size))


@dataclass(frozen=True)
class Term:
    operation: str
    calls: int
    formula: str


# How botocore names the Tagging API's operation (the IAM action is tag:GetResources).
TAGGING_GET_RESOURCES = "resource-groups-tagging-api:GetResources"

FORMULAS = {
    "ecr:DescribeRepositories": "⌈repositories in the account / 1,000⌉",
    "ecr:ListTagsForResource": (
        "1 per repository with deletions (the deleter's last look reads its protect tag again)"
    ),
    TAGGING_GET_RESOURCES: (
        "⌈repositories with the protect tag key / 100⌉: the scan reads every "
        "repository's protect tag at once (the Tagging API)"
    ),
    "ecr:DescribeImages": (
        "Σ per target repository ⌈images / 1,000⌉ (Collect) "
        "+ Σ ⌈deletions / 100⌉ (the deleter's last look, by digest)"
    ),
    "ecr:BatchGetImage": "Σ per target repository ⌈image indexes / 100⌉",
    "ecr:BatchDeleteImage": "Σ per target repository ⌈deletions / 100⌉",
    "ecs:ListClusters": "⌈clusters / 100⌉",
    "ecs:ListServices": "Σ per selected cluster ⌈services / 100⌉",
    "ecs:DescribeServices": "Σ per selected cluster ⌈services / 10⌉",
    "ecs:ListTasks": "Σ per selected cluster, for RUNNING and STOPPED, ⌈tasks / 100⌉",
    "ecs:DescribeTasks": "Σ per selected cluster, for RUNNING and STOPPED, ⌈tasks / 100⌉",
    "ecs:ListServiceDeployments": (
        "Σ per service of a selected cluster ⌈deployments under way or SUCCESSFUL / 100⌉"
    ),
    "ecs:DescribeServiceDeployments": (
        "⌈deployments read (under way, and each service's newest SUCCESSFUL) / 20⌉"
    ),
    "ecs:DescribeServiceRevisions": (
        "⌈distinct revisions (current, and those deployments' source and target) / 20⌉"
    ),
    "ecs:ListTaskDefinitionFamilies": "⌈families starting with the rules' common prefix / 100⌉",
    "ecs:ListTaskDefinitions": "Σ per selected family ⌈ACTIVE revisions / 100⌉",
    "ecs:DescribeTaskDefinition": (
        "distinct revisions needed (newest keep_count per family, services' deployments, "
        "tasks), less those the cache holds"
    ),
    "lambda:ListFunctions": "⌈functions in the account (the sweeper's own included) / 50⌉",
    "lambda:ListAliases": "1 per selected container-image function (⌈aliases / 10,000⌉)",
    "lambda:ListVersionsByFunction": "Σ per selected function ⌈versions with $LATEST / 50⌉",
    "lambda:GetFunction": "1 per kept version (newest keep_count with $LATEST, and aliased)",
    "sfn:DescribeExecution": (
        "3: the scan reads the run's input as sent; the scan and CheckCaps each read when "
        "this run started, to find a deleting run of another stack that started first"
    ),
    "sfn:ListStateMachines": (
        "2: the scan and CheckCaps each list the state machines (one page; another "
        "ecr-sweeper stack's would add ListTagsForResource and ListExecutions)"
    ),
    # The sources beyond ecrm's (config `sources`, each on unless turned off). The
    # benchmark's accounts have none of these resources: one empty page each.
    "eventbridge:ListEventBuses": "⌈event buses / 100⌉ (scheduled tasks)",
    "eventbridge:ListRules": "Σ per event bus ⌈rules / 100⌉",
    "eventbridge:ListTargetsByRule": "Σ per rule ⌈targets / 100⌉",
    "scheduler:ListSchedules": "⌈schedules / 100⌉",
    "scheduler:GetSchedule": "1 per schedule whose target runs an ECS task",
    "batch:DescribeJobDefinitions": "⌈ACTIVE job definitions / 100⌉",
    "batch:DescribeJobQueues": "⌈job queues / 100⌉",
    "batch:ListJobs": "Σ per job queue and live status ⌈jobs / 1,000⌉",
    "apprunner:ListServices": "⌈App Runner services / 20⌉",
    "apprunner:DescribeService": "1 per App Runner service",
    "codebuild:ListProjects": "⌈CodeBuild projects / 100⌉",
    "codebuild:BatchGetProjects": "⌈CodeBuild projects / 100⌉",
    "codebuild:ListBuilds": "⌈CodeBuild builds (the whole history) / 100⌉",
    "codebuild:BatchGetBuilds": "⌈CodeBuild builds / 100⌉",
    "sagemaker:ListModels": "⌈SageMaker models / 100⌉",
    "sagemaker:DescribeModel": "1 per SageMaker model",
    "sagemaker:ListTrainingJobs": "⌈training jobs in progress / 100⌉",
    "sagemaker:DescribeTrainingJob": "1 per training job in progress",
    "sagemaker:ListProcessingJobs": "⌈processing jobs in progress / 100⌉",
    "sagemaker:DescribeProcessingJob": "1 per processing job in progress",
    "sagemaker:ListImages": "⌈Studio images / 100⌉",
    "sagemaker:ListImageVersions": "Σ per Studio image ⌈versions / 100⌉",
    "sagemaker:DescribeImageVersion": "1 per Studio image version",
    "emr-serverless:ListApplications": "⌈applications not TERMINATED / 50⌉",
    "emr-serverless:GetApplication": "1 per application not TERMINATED",
    "bedrock-agentcore-control:ListAgentRuntimes": "⌈AgentCore runtimes / 100⌉",
    "bedrock-agentcore-control:ListAgentRuntimeEndpoints": "Σ per runtime ⌈endpoints / 100⌉",
    "bedrock-agentcore-control:GetAgentRuntime": (
        "1 per runtime and version served (the current one, endpoints' live and target)"
    ),
    "lightsail:GetContainerServices": "1 (every container service in one answer)",
    # Amazon EKS (config `eks`; the benchmark's config has none): per place that selects
    # clusters, then per selected cluster. Kubernetes GETs are not AWS API calls (no
    # throttling quota, no IAM), but they are calls a run makes.
    "eks:ListClusters": "1 per place with `eks` (⌈clusters / 100⌉)",
    "eks:DescribeCluster": "1 per selected cluster",
    **{
        f"kubernetes:GET {path}": f"Σ per selected cluster ⌈{kind} / 200⌉ (at least 1)"
        for path, kind in (
            ("/api/v1/pods", "pods"),
            ("/apis/apps/v1/deployments", "Deployments"),
            ("/apis/apps/v1/statefulsets", "StatefulSets"),
            ("/apis/apps/v1/daemonsets", "DaemonSets"),
            ("/apis/apps/v1/replicasets", "ReplicaSets"),
            ("/apis/batch/v1/jobs", "Jobs"),
            ("/apis/batch/v1/cronjobs", "CronJobs"),
        )
    },
}
KUBERNETES_PAGE = 200  # adapters/kubernetes_api.py PAGE_ITEMS
# Which config `sources` switch turns which operations on.
SOURCE_OPERATIONS = {
    "scheduled_tasks": (
        "eventbridge:ListEventBuses",
        "eventbridge:ListRules",
        "eventbridge:ListTargetsByRule",
        "scheduler:ListSchedules",
        "scheduler:GetSchedule",
    ),
    "batch": ("batch:DescribeJobDefinitions", "batch:DescribeJobQueues", "batch:ListJobs"),
    "app_runner": ("apprunner:ListServices", "apprunner:DescribeService"),
    "codebuild": (
        "codebuild:ListProjects",
        "codebuild:BatchGetProjects",
        "codebuild:ListBuilds",
        "codebuild:BatchGetBuilds",
    ),
    "sagemaker": (
        "sagemaker:ListModels",
        "sagemaker:DescribeModel",
        "sagemaker:ListTrainingJobs",
        "sagemaker:DescribeTrainingJob",
        "sagemaker:ListProcessingJobs",
        "sagemaker:DescribeProcessingJob",
        "sagemaker:ListImages",
        "sagemaker:ListImageVersions",
        "sagemaker:DescribeImageVersion",
    ),
    "emr_serverless": ("emr-serverless:ListApplications", "emr-serverless:GetApplication"),
    "agentcore": (
        "bedrock-agentcore-control:ListAgentRuntimes",
        "bedrock-agentcore-control:ListAgentRuntimeEndpoints",
        "bedrock-agentcore-control:GetAgentRuntime",
    ),
    "lightsail": ("lightsail:GetContainerServices",),
}


def eks_terms(places: Iterable[tuple[int, Mapping[str, Mapping[str, int]]]]) -> dict[str, int]:
    """The EKS calls: for each place whose config selects EKS clusters, the number of
    clusters listed there and, per selected cluster, its objects per list path, e.g.
    (3, {"prod": {"/api/v1/pods": 250}}) (a path not given holds nothing)."""
    terms = {"eks:ListClusters": 0, "eks:DescribeCluster": 0}
    for listed, selected in places:
        terms["eks:ListClusters"] += pages(listed, 100)
        terms["eks:DescribeCluster"] += len(selected)
        for objects in selected.values():
            for operation in FORMULAS:
                if operation.startswith("kubernetes:GET "):
                    path = operation.removeprefix("kubernetes:GET ")
                    terms[operation] = terms.get(operation, 0) + pages(
                        objects.get(path, 0), KUBERNETES_PAGE
                    )
    return terms


def floor(
    account: Account,
    *,
    present: dict[str, set[str]],
    deletions: dict[str, int],
    cached_revisions: int,
    stack_functions: int,
    sources: frozenset[str] = frozenset(),
) -> list[Term]:
    """The floor of one deleting run.

    `present`: the digests in each target repository when the run starts; `deletions`:
    how many the run should delete; `cached_revisions`: needed task definition
    revisions the cache already holds; `stack_functions`: the sweeper's own functions,
    which ListFunctions lists too; `sources`: the config's extra sources that are on.
    """
    inventory = account.inventory
    terms: dict[str, int] = {}
    targets = list(account.images)
    indexes = {
        name: sum(1 for i in images if i.manifests and i.digest in present[name])
        for name, images in account.images.items()
    }

    terms["ecr:DescribeRepositories"] = pages(len(inventory["repositories"]), 1000)
    terms["ecr:ListTagsForResource"] = sum(1 for n in targets if deletions[n])
    # The benchmark's accounts tag no repository: one empty page.
    terms[TAGGING_GET_RESOURCES] = pages(0, 100)
    terms["ecr:DescribeImages"] = sum(pages(len(present[n]), 1000) for n in targets) + sum(
        ceil(deletions[n] / 100) for n in targets
    )
    terms["ecr:BatchGetImage"] = sum(ceil(indexes[n] / 100) for n in targets)
    terms["ecr:BatchDeleteImage"] = sum(ceil(deletions[n] / 100) for n in targets)

    terms["ecs:ListClusters"] = pages(len(account.clusters), 100)
    selected = [c for name, c in account.clusters.items() if name in SELECTED_CLUSTERS]
    terms["ecs:ListServices"] = sum(pages(c["services"], 100) for c in selected)
    terms["ecs:DescribeServices"] = sum(ceil(c["services"] / 10) for c in selected)
    terms["ecs:ListTasks"] = sum(pages(n, 100) for c in selected for n in c["tasks"].values())
    terms["ecs:DescribeTasks"] = sum(ceil(n / 100) for c in selected for n in c["tasks"].values())
    # Each service lists at most two deployments (one SUCCESSFUL, one IN_PROGRESS): one page.
    terms["ecs:ListServiceDeployments"] = sum(c["services"] for c in selected)
    terms["ecs:DescribeServiceDeployments"] = ceil(account.service_deployments_read / 20)
    terms["ecs:DescribeServiceRevisions"] = ceil(account.service_revisions_read / 20)
    families = [f for f in account.task_definitions if f.startswith("app-")]
    terms["ecs:ListTaskDefinitionFamilies"] = pages(len(families), 100)
    terms["ecs:ListTaskDefinitions"] = sum(
        pages(account.task_definitions[f], 100) for f in families
    )
    terms["ecs:DescribeTaskDefinition"] = len(account.needed_revisions) - cached_revisions

    functions = len(account.functions) + stack_functions
    terms["lambda:ListFunctions"] = pages(functions, 50)
    selected_functions = [f for name, f in account.functions.items() if name.startswith("fn-")]
    terms["lambda:ListAliases"] = sum(pages(f["aliases"], 10_000) for f in selected_functions)
    terms["lambda:ListVersionsByFunction"] = sum(
        pages(f["versions"], 50) for f in selected_functions
    )
    terms["lambda:GetFunction"] = account.kept_versions
    # One deleting run per registry, across stacks (run_lock.py): no other stack here.
    terms["sfn:DescribeExecution"] = 3
    terms["sfn:ListStateMachines"] = 2

    # The extra sources: the account has no rule, schedule, job or App Runner service.
    empty = {
        "eventbridge:ListEventBuses": pages(0, 100),  # lists the default bus
        "eventbridge:ListRules": 1 * pages(0, 100),  # one bus: the default one
        "eventbridge:ListTargetsByRule": 0,
        "scheduler:ListSchedules": pages(0, 100),
        "scheduler:GetSchedule": 0,
        "batch:DescribeJobDefinitions": pages(0, 100),
        "batch:DescribeJobQueues": pages(0, 100),
        "batch:ListJobs": 0,
        "apprunner:ListServices": pages(0, 20),
        "apprunner:DescribeService": 0,
        # No project, build, model, job, image, application, runtime or container
        # service: the listing calls only, one empty page each.
        "codebuild:ListProjects": pages(0, 100),
        "codebuild:BatchGetProjects": 0,
        "codebuild:ListBuilds": pages(0, 100),
        "codebuild:BatchGetBuilds": 0,
        "sagemaker:ListModels": pages(0, 100),
        "sagemaker:DescribeModel": 0,
        "sagemaker:ListTrainingJobs": pages(0, 100),
        "sagemaker:DescribeTrainingJob": 0,
        "sagemaker:ListProcessingJobs": pages(0, 100),
        "sagemaker:DescribeProcessingJob": 0,
        "sagemaker:ListImages": pages(0, 100),
        "sagemaker:ListImageVersions": 0,
        "sagemaker:DescribeImageVersion": 0,
        "emr-serverless:ListApplications": pages(0, 50),
        "emr-serverless:GetApplication": 0,
        "bedrock-agentcore-control:ListAgentRuntimes": pages(0, 100),
        "bedrock-agentcore-control:ListAgentRuntimeEndpoints": 0,
        "bedrock-agentcore-control:GetAgentRuntime": 0,
        "lightsail:GetContainerServices": 1,
    }
    for source in sorted(sources):
        for operation in SOURCE_OPERATIONS.get(source, ()):
            terms[operation] = empty[operation]
    return [Term(op, calls, FORMULAS[op]) for op, calls in terms.items()]


# ---------------------------------------------------------------- S3: the run's own data

# The S3 calls of each function (each phase of the run), with their formulas. On the
# emulator each function has one warm container, as a lightly loaded Lambda would.
S3_FORMULAS = {
    "InUseScanFunction": (
        "GetObject: 1, the task definition cache (when the config reads clusters or task "
        "definitions). PutObject: 3, the config snapshot, the in-use set and the plan Map's "
        "items; + 1, the cache, when it changes; + 1, the run lock (a deleting run)"
    ),
    "CollectorFunction": (
        "PutObject: 1 per repository whose images (JSON) exceed 8 KiB; the others travel "
        "inline to Evaluate"
    ),
    "EvaluatorFunction": (
        "GetObject: 2 per warm container (the config snapshot and the in-use set, kept by "
        "their SHA-256) + 1 per repository whose images came as a file. PutObject: 1 per "
        "plan that deletes or archives something and exceeds 8 KiB, or is held (a small "
        "one travels inline to its deleter, through the plan Map's results)"
    ),
    "CapsFunction": (
        "GetObject: 2 (the config, the plan Map's items) + the plan Map's results (the "
        "manifest and 1 file). PutObject: 1, the approved list"
    ),
    "DeleterFunction": (
        "Only for repositories with deletions (no child for the others). GetObject: 2 per "
        "warm container + per repository 2 (the run lock, the journal) + 1 if its plan "
        "is a file (a small one comes inline, its approval proven by its item). "
        "PutObject: per repository ⌈deletions / 100⌉ (the journal, before each batch is "
        "sent) + 1 if its result exceeds 8 KiB (a small one travels in the Map's results)"
    ),
    "SummaryFunction": (
        "GetObject: 1 (the plan Map's items) + each Map's results (the manifest, and 1 file "
        "when it has children) + 1 per result written as a file + 1, the run lock (a "
        "deleting run) + 1, the previous run's report (reports/latest.json, for what "
        "changed). ListObjectsV2: ⌈result files / 1,000⌉ + ⌈journals / 1,000⌉. "
        "PutObject: 3, report.json, report.md and reports/latest.json. DeleteObject: 1, "
        "the run lock"
    ),
}


@dataclass(frozen=True)
class RunFiles:
    """What a run wrote that depends on the size of its data, not only on the inventory
    (read from the run bucket afterwards): the repositories whose images, plan or result
    were too large (over 8 KiB) to travel inline (the benchmark holds no plan)."""

    images_files: int
    plans_files: int
    results_files: int


def s3_floor(
    account: Account,
    *,
    deletions: dict[str, int],
    cache_changes: bool,
    files: RunFiles,
) -> dict[str, dict[str, int]]:
    """The S3 calls of one deleting run, per function (S3_FORMULAS)."""
    swept = [n for n in account.images if deletions[n]]
    reads_task_definitions = True  # the benchmark's config reads clusters and families
    floor: dict[str, dict[str, int]] = {
        "InUseScanFunction": {
            "s3:GetObject": 1 if reads_task_definitions else 0,
            "s3:PutObject": 3 + int(cache_changes) + 1,
        },
        "CollectorFunction": {"s3:PutObject": files.images_files},
        "EvaluatorFunction": {
            "s3:GetObject": 2 + files.images_files,
            "s3:PutObject": files.plans_files,
        },
        "CapsFunction": {"s3:GetObject": 2 + 2, "s3:PutObject": 1},
        "SummaryFunction": {
            # ... + 1: the run lock; + 1: reports/latest.json (what changed since).
            "s3:GetObject": 1 + 2 + (2 if swept else 1) + files.results_files + 1 + 1,
            "s3:ListObjectsV2": pages(files.results_files, 1000) + pages(len(swept), 1000),
            "s3:PutObject": 3,
            "s3:DeleteObject": 1,
        },
    }
    if swept:
        floor["DeleterFunction"] = {
            "s3:GetObject": 2 + 2 * len(swept) + files.plans_files,
            "s3:PutObject": sum(ceil(deletions[n] / 100) for n in swept) + files.results_files,
        }
    return {
        function: {op: n for op, n in calls.items() if n}
        for function, calls in floor.items()
        if any(calls.values())
    }
