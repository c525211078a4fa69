"""AWS CodeBuild as a source of "in use": projects' build images, and the image of every
build still running (a build can override its project's image, and a project changed
since the build started no longer names the image the build runs).

Calls:

* ListProjects (100 names a page, the API's fixed page), then BatchGetProjects for those
  names, 100 at a time (its maximum);
* ListBuilds (100 ids a page, fixed), then BatchGetBuilds for those ids, 100 at a time
  (its maximum). ListBuilds orders builds by id, not by time, so no page can be known to
  hold only finished builds: every build of the account's history is read.

The batch calls run concurrently (at most DESCRIBE_CONCURRENCY at a time). A project or
build deleted between the two calls comes back in `projectsNotFound` / `buildsNotFound`
and uses nothing. Every API error goes through `classify`.

The image is `environment.image` (a CodeBuild-managed image such as
`aws/codebuild/standard:7.0` is not an ECR image and is ignored).
"""

from __future__ import annotations

from typing import Any

from ecr_sweeper.adapters.aws import called, concurrently, paged
from ecr_sweeper.adapters.ecr import chunks
from ecr_sweeper.core.in_use import InUseBuilder, PlaceBuilder

SOURCE = "codebuild"
BATCH_GET_PROJECTS = 100  # BatchGetProjects' maximum
BATCH_GET_BUILDS = 100  # BatchGetBuilds' maximum


def _batches(
    codebuild: Any, operation: str, argument: str, key: str, items: list[str], size: int
) -> list[dict[str, Any]]:
    answers = concurrently(
        lambda chunk: called(codebuild, operation, **{argument: list(chunk)}),
        list(chunks(items, size)),
    )
    return [item for answer in answers for item in answer.get(key) or []]


def collect_codebuild_usage(
    codebuild: Any, builder: InUseBuilder | PlaceBuilder, source: str = SOURCE
) -> None:
    names = sorted(set(paged(codebuild, "list_projects", "projects")))
    projects = _batches(
        codebuild, "batch_get_projects", "names", "projects", names, BATCH_GET_PROJECTS
    )
    for project in sorted(projects, key=lambda p: str(p.get("name"))):
        image = (project.get("environment") or {}).get("image")
        if image:
            builder.add(image, f"codebuild:project/{project.get('name')}", source)
    ids = sorted(set(paged(codebuild, "list_builds", "ids")))
    builds = _batches(codebuild, "batch_get_builds", "ids", "builds", ids, BATCH_GET_BUILDS)
    for build in sorted(builds, key=lambda b: str(b.get("id"))):
        if build.get("buildComplete") is True:
            continue  # finished: it runs nothing (a missing flag counts as running)
        image = (build.get("environment") or {}).get("image")
        if image:
            builder.add(image, f"codebuild:build/{build.get('id')}", source)
