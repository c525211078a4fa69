"""Synthetic accounts: seeded, reproducible inventories, and what a correct run does to them.

Every size is one account built by the same generator:

* `repositories` target repositories `svc-NNNNN` of `images` images each, plus one
  repository (`platform/base`) that no rule selects. The newest fifth of each
  repository was pushed in the last 30 days; the rest is older. The newest image is
  tagged `latest`, one image in four is untagged, and repositories of 50 images or more
  hold a multi-architecture index (two children) every 50 images.
* `families` task definition families `app-NNN` of `revisions` revisions each, whose
  containers run expired images of the repositories (the newest `keep_count` revisions
  are in use), and a family `legacy-0` that no rule selects.
* `services` services in two selected clusters (`bench-a`, `bench-b`), each with a
  PRIMARY deployment of its family's newest revision; one in three also has an ACTIVE
  deployment of an older revision. Each service runs one task (a container started by
  tag, running a digest) and one in four has a STOPPED task. Each service's current
  revision pins a digest (its tag has moved since) and was started by a SUCCESSFUL
  deployment; one in five has a deployment IN_PROGRESS to a revision pinning another
  digest. A third cluster, not selected, runs a service of `legacy-0`.
* `functions` container-image Lambda functions `fn-NN` of `versions` versions each,
  with an alias on an older version, and a function `tool-0` that no rule selects.

`expected_outcome` works out, from the inventory alone and ecrm's rules, which images a
deleting run removes. The benchmark checks every run against it.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

ACCOUNT, REGION = "123456789012", "ap-northeast-1"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
NOW = datetime(2026, 11, 27, tzinfo=UTC)
EXPIRES_DAYS = 30
KEEP_COUNT = 3  # images, per repository rule
TD_KEEP_COUNT = 3  # task definition revisions, per family
LAMBDA_KEEP_COUNT = 3  # Lambda versions, per function ($LATEST is one)
INDEX_EVERY = 50  # a multi-arch index (plus two children) every 50 images
INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"
SELECTED_CLUSTERS = ("bench-a", "bench-b")
OTHER_CLUSTER = "other"
UNSELECTED_REPOSITORY = "platform/base"


@dataclass(frozen=True)
class Size:
    name: str
    title: str
    repositories: int
    images: int
    families: int
    revisions: int
    services: int
    functions: int
    versions: int
    seed: int
    # Whether the memory run traces the functions the Maps' children run too. Tracing
    # slows Python down about threefold: the largest size traces only the functions
    # outside the Maps, whose work grows with the number of repositories.
    trace_children: bool = True

    @property
    def lambda_versions(self) -> int:
        return self.functions * self.versions


SIZES = {
    size.name: size
    for size in (
        Size("small", "small", 20, 50, 10, 10, 5, 4, 5, seed=1),
        Size("medium", "medium", 300, 200, 100, 30, 50, 20, 10, seed=2),
        Size("deep", "deep repository", 1, 10_000, 5, 10, 2, 2, 5, seed=3),
        Size("wide-20", "20 small repositories", 20, 10, 5, 5, 4, 2, 5, seed=4),
        Size(
            "wide-5000",
            "5,000 small repositories",
            5_000,
            10,
            5,
            5,
            4,
            2,
            5,
            seed=4,
            trace_children=False,
        ),
    )
}


def config_text(max_deletions: bool) -> str:
    """The config every size runs with (ecrm's format)."""
    text = f"""\
clusters:
  - name_pattern: "bench-*"
task_definitions:
  - name_pattern: "app-*"
    keep_count: {TD_KEEP_COUNT}
lambda_functions:
  - name_pattern: "fn-*"
    keep_count: {LAMBDA_KEEP_COUNT}
repositories:
  - name_pattern: "svc-*"
    expires: {EXPIRES_DAYS}days
    keep_count: {KEEP_COUNT}
    keep_tag_patterns: [latest]
"""
    if max_deletions:
        # The default cap (a run that would delete more deletes nothing) is far below
        # what the larger sizes delete on purpose.
        text += "safety:\n  max_deletions: 1000000\n"
    return text


def digest(label: str) -> str:
    return "sha256:" + hashlib.sha256(label.encode()).hexdigest()


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def repository_name(index: int) -> str:
    return f"svc-{index:05d}"


@dataclass
class Image:
    position: int  # 0 is the newest
    digest: str
    tags: list[str]
    pushed_at: datetime
    manifests: list[str] = field(default_factory=list)
    child: bool = False  # a child of an index

    @property
    def expired(self) -> bool:
        return self.pushed_at < NOW - timedelta(days=EXPIRES_DAYS)

    def spec(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "digest": self.digest,
            "tags": self.tags,
            "pushed_at": stamp(self.pushed_at),
            "size_bytes": 1_000_000 + self.position,
        }
        if self.manifests:
            data["media_type"] = INDEX_MEDIA_TYPE
            data["manifests"] = self.manifests
        return data


def repository_images(name: str, count: int) -> list[Image]:
    """The images of one repository, newest first."""
    recent = max(1, count // 5)
    step = timedelta(hours=EXPIRES_DAYS * 24 / recent)
    images: list[Image] = []
    position = 0
    while position < count:
        if position < recent:
            pushed = NOW - timedelta(minutes=30) - step * position
        else:
            pushed = NOW - timedelta(days=EXPIRES_DAYS + 1) - step * (position - recent)
        group = position % INDEX_EVERY == INDEX_EVERY // 2 and position + 2 < count
        if group:
            children = [digest(f"{name}/{position + k}") for k in (1, 2)]
            images.append(Image(position, digest(f"{name}/{position}"), [], pushed, children))
            for k, child in enumerate(children, start=1):
                images.append(Image(position + k, child, [], pushed, child=True))
            position += 3
            continue
        tags = [] if position % 4 == 3 else [f"v{count - position}"]
        if position == 0:
            tags = ["latest", *tags]
        images.append(Image(position, digest(f"{name}/{position}"), tags, pushed))
        position += 1
    return images


@dataclass
class Account:
    """An inventory (the emulator's input) and what the generator knows about it."""

    size: Size
    inventory: dict[str, Any]
    images: dict[str, list[Image]]  # target repositories only
    task_definitions: dict[str, int]  # family -> revisions (every one ACTIVE)
    clusters: dict[str, dict[str, Any]]  # name -> {"services": n, "tasks": {status: n}}
    functions: dict[str, dict[str, Any]]  # name -> {"versions": n, "aliases": n}
    needed_revisions: set[str]  # family:revision the scan must read
    kept_versions: int  # GetFunction calls a scan makes
    service_deployments_read: int  # under way, and the newest SUCCESSFUL of each service
    service_revisions_read: int  # distinct revisions: current, and the deployments' own


def build(size: Size) -> Account:
    rng = random.Random(size.seed)
    names = [repository_name(i) for i in range(size.repositories)]
    images = {name: repository_images(name, size.images) for name in names}
    # Images a user may run: expired, tagged or not, never part of an index.
    candidates = {
        name: [i for i in repo if i.expired and not i.manifests and not i.child]
        for name, repo in images.items()
    }

    def reference(repository: str, by_digest: bool | None = None) -> tuple[str, Image]:
        image = rng.choice(candidates[repository])
        use_digest = by_digest if by_digest is not None else (not image.tags or rng.random() < 0.5)
        ref = f"@{image.digest}" if use_digest else f":{image.tags[-1]}"
        return f"{REGISTRY}/{repository}{ref}", image

    def repository_for(index: int) -> str:
        return names[(index * 7) % len(names)]

    task_definitions = []
    for f in range(size.families):
        family = f"app-{f:03d}"
        for revision in range(1, size.revisions + 1):
            uri, _ = reference(repository_for(f + revision))
            task_definitions.append({"family": family, "revision": revision, "images": [uri]})
    legacy_uri, _ = reference(repository_for(3))
    task_definitions.append({"family": "legacy-0", "revision": 1, "images": [legacy_uri]})

    clusters: dict[str, dict[str, Any]] = {
        c: {"name": c, "services": [], "tasks": []} for c in SELECTED_CLUSTERS
    }
    needed = {
        f"app-{f:03d}:{r}"
        for f in range(size.families)
        for r in range(max(1, size.revisions - TD_KEEP_COUNT + 1), size.revisions + 1)
    }
    deployments_read = revisions_read = 0
    for s in range(size.services):
        cluster = clusters[SELECTED_CLUSTERS[s % 2]]
        family = f"app-{s % size.families:03d}"
        primary = f"{family}:{size.revisions}"
        deployments = [{"task_definition": primary, "status": "PRIMARY"}]
        if s % 3 == 0 and size.revisions > TD_KEEP_COUNT + 1:
            older = f"{family}:{rng.randint(1, size.revisions - TD_KEEP_COUNT)}"
            deployments.append({"task_definition": older, "status": "ACTIVE"})
            needed.add(older)
        pinned_repository = repository_for(s + 13)
        revisions = [_pinned_revision("1", pinned_repository, reference(pinned_repository)[1], s)]
        history = [{"id": "1", "status": "SUCCESSFUL", "target_revision": "1"}]
        if s % 5 == 0:
            revisions.append(
                _pinned_revision("2", pinned_repository, reference(pinned_repository)[1], s)
            )
            history.append(
                {
                    "id": "2",
                    "status": "IN_PROGRESS",
                    "source_revisions": ["1"],
                    "target_revision": "2",
                }
            )
        revisions[0]["current"] = True
        deployments_read += len(history)
        revisions_read += len(revisions)
        cluster["services"].append(
            {
                "name": f"svc-{s:03d}",
                "deployments": deployments,
                "revisions": revisions,
                "service_deployments": history,
            }
        )
        needed.add(primary)
        for status in ("RUNNING", "STOPPED") if s % 4 == 0 else ("RUNNING",):
            repository = repository_for(s + 11)
            _, ran = reference(repository)
            cluster["tasks"].append(
                {
                    "task_definition": primary,
                    "desired_status": status,
                    "containers": [
                        {
                            "image": f"{REGISTRY}/{repository}:moved-{s}",
                            "image_digest": ran.digest,
                        }
                    ],
                }
            )
    other = {
        "name": OTHER_CLUSTER,
        "services": [{"name": "legacy", "deployments": [{"task_definition": "legacy-0:1"}]}],
        "tasks": [],
    }

    functions = []
    kept_versions = 0
    for g in range(size.functions):
        repository = repository_for(g + 5)
        versions = []
        for v in range(1, size.versions + 1):
            uri, image = reference(repository)
            spec = {"version": str(v), "image_uri": uri}
            if v % 2:
                spec["resolved_image_uri"] = f"{REGISTRY}/{repository}@{image.digest}"
            versions.append(spec)
        versions.append({"version": "$LATEST", "image_uri": versions[-1]["image_uri"]})
        aliases = []
        if size.versions > LAMBDA_KEEP_COUNT:
            aliases.append({"name": "live", "version": str(size.versions - LAMBDA_KEEP_COUNT)})
        kept_versions += LAMBDA_KEEP_COUNT + len(aliases)
        functions.append({"name": f"fn-{g:02d}", "versions": versions, "aliases": aliases})
    tool_uri, _ = reference(repository_for(9))
    functions.append({"name": "tool-0", "versions": [{"version": "1", "image_uri": tool_uri}]})

    repositories = [
        {"name": name, "images": [image.spec() for image in images[name]]} for name in names
    ]
    repositories.append(
        {
            "name": UNSELECTED_REPOSITORY,
            "images": [repository_images(UNSELECTED_REPOSITORY, 3)[-1].spec()],
        }
    )
    inventory = {
        "account_id": ACCOUNT,
        "region": REGION,
        "now": stamp(NOW),
        "repositories": repositories,
        "ecs": {
            "clusters": [*clusters.values(), other],
            "task_definitions": task_definitions,
        },
        "lambda": {"functions": functions},
    }
    return Account(
        size=size,
        inventory=inventory,
        images=images,
        task_definitions={
            **{f"app-{f:03d}": size.revisions for f in range(size.families)},
            "legacy-0": 1,
        },
        clusters={
            c["name"]: {
                "services": len(c["services"]),
                "tasks": {
                    status: sum(1 for t in c["tasks"] if t["desired_status"] == status)
                    for status in ("RUNNING", "STOPPED")
                },
            }
            for c in [*clusters.values(), other]
        },
        functions={
            f["name"]: {"versions": len(f["versions"]), "aliases": len(f.get("aliases", []))}
            for f in functions
        },
        needed_revisions=needed,
        kept_versions=kept_versions,
        service_deployments_read=deployments_read,
        service_revisions_read=revisions_read,
    )


def _pinned_revision(revision_id: str, repository: str, pinned: Image, service: int) -> dict:
    """A service revision whose container was started by a tag that has moved since: only
    the digest ECS pinned then names the image it runs."""
    return {
        "id": revision_id,
        "containers": [
            {"image": f"{REGISTRY}/{repository}:moved-{service}", "image_digest": pinned.digest}
        ],
    }


def in_use(account: Account) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(repository -> digests in use, repository -> tags in use), from the inventory."""
    digests: dict[str, set[str]] = {}
    tags: dict[str, set[str]] = {}

    def add(uri: str) -> None:
        if not uri.startswith(REGISTRY + "/"):
            return
        rest = uri[len(REGISTRY) + 1 :]
        if "@" in rest:
            repository, value = rest.split("@", 1)
            digests.setdefault(repository, set()).add(value)
        else:
            repository, value = rest.rsplit(":", 1)
            tags.setdefault(repository, set()).add(value)

    definitions = {
        f"{td['family']}:{td['revision']}": td["images"]
        for td in account.inventory["ecs"]["task_definitions"]
    }
    for revision in account.needed_revisions:
        for uri in definitions[revision]:
            add(uri)
    for cluster in account.inventory["ecs"]["clusters"]:
        if cluster["name"] not in SELECTED_CLUSTERS:
            continue
        containers = [c for task in cluster["tasks"] for c in task["containers"]]
        containers += [
            c
            for service in cluster["services"]
            for revision in service.get("revisions", [])
            for c in revision["containers"]
        ]
        for container in containers:
            add(container["image"])
            repository = container["image"][len(REGISTRY) + 1 :].rsplit(":", 1)[0]
            digests.setdefault(repository, set()).add(container["image_digest"])
    for function in account.inventory["lambda"]["functions"]:
        if not function["name"].startswith("fn-"):
            continue
        versions = {v["version"]: v for v in function["versions"]}
        numbered = sorted((int(v) for v in versions if v.isdigit()), reverse=True)
        kept = {"$LATEST", *(str(v) for v in numbered[: LAMBDA_KEEP_COUNT - 1])}
        kept |= {a["version"] for a in function.get("aliases", [])}
        for version in kept:
            add(versions[version]["image_uri"])
            if versions[version].get("resolved_image_uri"):
                add(versions[version]["resolved_image_uri"])
    return digests, tags


def expected_outcome(account: Account) -> dict[str, set[str]]:
    """repository -> the digests a deleting run removes, by ecrm's rules.

    In use (digest or tag), a `latest` tag or pushed in the last 30 days: kept. Then the
    newest KEEP_COUNT tagged images still undecided are kept. A kept index keeps its
    children; nothing here uses a child, and no index is tagged, so an expired index
    goes with its expired children. Everything else goes.
    """
    digests, tags = in_use(account)
    outcome: dict[str, set[str]] = {}
    for repository, images in account.images.items():
        used_digests, used_tags = digests.get(repository, set()), tags.get(repository, set())
        kept: set[str] = set()
        slots = 0
        for image in images:  # newest first
            if (
                image.digest in used_digests
                or used_tags.intersection(image.tags)
                or "latest" in image.tags
                or not image.expired
            ):
                kept.add(image.digest)
            elif image.tags and slots < KEEP_COUNT:
                slots += 1
                kept.add(image.digest)
        for image in images:
            if image.manifests and image.digest in kept:
                kept.update(image.manifests)
        outcome[repository] = {i.digest for i in images} - kept
    return outcome
