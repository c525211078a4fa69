"""The set of images in use, per repository of one account and region.

Sources (ECS, Lambda, external commands, scanned files) hand image references
to an :class:`InUseBuilder`; the built :class:`InUseSet` is stored as JSON in S3
and read by the planner.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from pydantic import BaseModel, ConfigDict, Field

from ecr_sweeper.core.image_ref import is_valid_digest, parse_image_ref

# At most this many users are listed per digest or tag; the rest are summarised.
MAX_USERS = 5

IGNORED_NOT_ECR = "not ECR"
IGNORED_OTHER_REGISTRY = "other account or region"
IGNORED_UNPARSABLE = "unparsable"


def more_marker(count: int) -> str:
    return f"... and {count} more"


def _capped(users: set[str]) -> list[str]:
    ordered = sorted(users)
    if len(ordered) <= MAX_USERS:
        return ordered
    return [*ordered[:MAX_USERS], more_marker(len(ordered) - MAX_USERS)]


class RepositoryUsage(BaseModel):
    """What is in use in one repository: digest -> users and tag -> users.

    Each user list holds at most ``MAX_USERS`` names, followed by one
    ``"... and N more"`` entry when there were more.
    """

    model_config = ConfigDict(extra="forbid")

    digests: dict[str, list[str]] = Field(default_factory=dict)
    tags: dict[str, list[str]] = Field(default_factory=dict)


class InUseSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: str
    region: str
    repositories: dict[str, RepositoryUsage] = Field(default_factory=dict)
    # Why references were skipped, with counts.
    ignored: dict[str, int] = Field(default_factory=dict)
    # References recorded per source name (a source that recorded none shows 0).
    sources: dict[str, int] = Field(default_factory=dict)

    def usage_for(self, repository: str) -> RepositoryUsage:
        usage = self.repositories.get(repository)
        return usage if usage is not None else RepositoryUsage()

    def image_count(self) -> int:
        """Distinct (repository, digest) plus (repository, tag) keys."""
        return sum(len(u.digests) + len(u.tags) for u in self.repositories.values())


class InUseBuilder:
    """Collects references; only ECR images of ``account_id`` / ``region`` are kept."""

    def __init__(self, account_id: str, region: str) -> None:
        self.account_id = account_id
        self.region = region.lower()
        self._digests: defaultdict[str, defaultdict[str, set[str]]] = defaultdict(
            lambda: defaultdict(set)
        )
        self._tags: defaultdict[str, defaultdict[str, set[str]]] = defaultdict(
            lambda: defaultdict(set)
        )
        self._ignored: Counter[str] = Counter()
        self._sources: Counter[str] = Counter()

    def _ignore(self, why: str, source: str) -> None:
        self._sources[source] += 0
        self._ignored[why] += 1

    def add(self, uri: str, used_by: str, source: str) -> bool:
        """Record the image ``uri`` as used by ``used_by``; True if it is an image of this
        registry (recorded), False if it was ignored (and counted as such).

        ``repo:tag@digest`` records both the tag and the digest; a reference
        with neither records the tag ``latest``.
        """
        ref = parse_image_ref(uri)
        if ref is None:
            self._ignore(IGNORED_UNPARSABLE, source)
            return False
        if not ref.is_ecr:
            self._ignore(IGNORED_NOT_ECR, source)
            return False
        if ref.account_id != self.account_id or ref.region != self.region:
            self._ignore(IGNORED_OTHER_REGISTRY, source)
            return False
        if ref.digest is not None:
            self._digests[ref.repository][ref.digest].add(used_by)
        if ref.tag is not None:
            self._tags[ref.repository][ref.tag].add(used_by)
        self._sources[source] += 1
        return True

    def add_digest(self, repository: str, digest: str, used_by: str, source: str) -> None:
        """Record a digest an API reports apart from the URI (ECS ``imageDigest``)."""
        if not repository or not is_valid_digest(digest):
            self._ignore(IGNORED_UNPARSABLE, source)
            return
        self._digests[repository][digest].add(used_by)
        self._sources[source] += 1

    def build(self) -> InUseSet:
        repositories: dict[str, RepositoryUsage] = {}
        for repository in sorted(set(self._digests) | set(self._tags)):
            digests = self._digests.get(repository, {})
            tags = self._tags.get(repository, {})
            repositories[repository] = RepositoryUsage(
                digests={d: _capped(digests[d]) for d in sorted(digests)},
                tags={t: _capped(tags[t]) for t in sorted(tags)},
            )
        return InUseSet(
            account_id=self.account_id,
            region=self.region,
            repositories=repositories,
            ignored={k: self._ignored[k] for k in sorted(self._ignored)},
            sources={k: self._sources[k] for k in sorted(self._sources)},
        )


class PlaceBuilder:
    """The builder, for the sources of another account or region (config `accounts`):
    each user names the place it runs in, and each source is counted per place."""

    def __init__(self, builder: InUseBuilder, place: str) -> None:
        self._builder = builder
        self.place = place

    def add(self, uri: str, used_by: str, source: str) -> None:
        self._builder.add(uri, f"{self.place} {used_by}", f"{source}@{self.place}")

    def add_digest(self, repository: str, digest: str, used_by: str, source: str) -> None:
        self._builder.add_digest(
            repository, digest, f"{self.place} {used_by}", f"{source}@{self.place}"
        )
