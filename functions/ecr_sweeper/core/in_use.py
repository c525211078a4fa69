"""The set of images in use, per repository of one account and region.

Sources (ECS, Lambda, external commands, scanned files) hand image references
to an :class:`InUseBuilder`; the built :class:`InUseSet` is stored as JSON in S3
and read by the planner.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from pydantic import BaseModel, ConfigDict, Field

from ecr_sweeper.core.image_ref import is_valid_digest, parse_image_ref, read_unreadable
from ecr_sweeper.core.messages import short_repr
from ecr_sweeper.errors import SourceReadError

# At most this many users are listed per digest or tag; the rest are summarised.
MAX_USERS = 5
# An unreadable reference is kept as written, up to this many characters.
MAX_REFERENCE_CHARS = 1024

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
    # In-use references naming this repository whose tag or digest cannot be read
    # (reference -> users). Any image could be the one meant: every image is kept.
    unreadable: dict[str, list[str]] = Field(default_factory=dict)
    # Digests in use in the other repositories of this registry (digest -> users), so
    # that a signature kept apart from its image (cosign's COSIGN_REPOSITORY) is kept
    # while the image is in use. Filled by InUseSet.usage_for; never stored.
    digests_elsewhere: dict[str, list[str]] = Field(default_factory=dict, exclude=True)


class InUseSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: str
    region: str
    repositories: dict[str, RepositoryUsage] = Field(default_factory=dict)
    # Why references were skipped, with counts.
    ignored: dict[str, int] = Field(default_factory=dict)
    # References recorded per source name (a source that recorded none shows 0).
    sources: dict[str, int] = Field(default_factory=dict)
    # The repositories of this registry that their tag (ecr-sweeper:protect=true)
    # protects, and why: read once by the scan for the whole registry.
    protected: dict[str, str] = Field(default_factory=dict)

    def usage_for(self, repository: str) -> RepositoryUsage:
        """What is in use in `repository`, with the digests in use anywhere else."""
        usage = self.repositories.get(repository) or RepositoryUsage()
        elsewhere: defaultdict[str, list[str]] = defaultdict(list)
        for other, other_usage in self.repositories.items():
            if other != repository:
                for digest, users in other_usage.digests.items():
                    elsewhere[digest].extend(f"{other}: {user}" for user in users)
        return usage.model_copy(
            update={"digests_elsewhere": {d: u[:MAX_USERS] for d, u in elsewhere.items()}}
        )

    def image_count(self) -> int:
        """Distinct (repository, digest), (repository, tag) and (repository, unreadable
        reference) keys."""
        return sum(
            len(u.digests) + len(u.tags) + len(u.unreadable) for u in self.repositories.values()
        )


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
        self._unreadable: defaultdict[str, defaultdict[str, set[str]]] = defaultdict(
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
            return self._add_unreadable(uri, used_by, source)
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

    def _add_unreadable(self, uri: str, used_by: str, source: str) -> bool:
        """A reference the parser cannot read keeps all it may name, never less.

        One that names no ECR registry cannot name an image here: ignored. One that
        names this registry and a repository we can read keeps that whole repository:
        its tag or digest is unreadable, so any image there could be the one meant.
        One that names this registry but no repository we can read could mean any
        repository: rather than keep them all in silence (a run that deletes nothing
        and says it succeeded), the scan fails, naming the reference and its user.
        """
        found = read_unreadable(uri)
        if found is None:
            self._ignore(IGNORED_UNPARSABLE, source)
            return False
        if found.account_id != self.account_id or found.region != self.region:
            self._ignore(IGNORED_OTHER_REGISTRY, source)
            return False
        if found.repository is None:
            raise SourceReadError(
                f"the image reference {short_repr(uri, 300)} (used by {used_by}, from "
                f"{source}) names this registry, but its repository cannot be read, so no "
                "repository can be known to be unused: nothing is deleted. Correct or "
                "remove the reference."
            )
        self._unreadable[found.repository][uri.strip()[:MAX_REFERENCE_CHARS]].add(used_by)
        self._sources[source] += 1
        return True

    def add_digest(self, repository: str, digest: str, used_by: str, source: str) -> None:
        """Record a digest an API reports apart from the URI (ECS ``imageDigest``).
        A digest that cannot be read keeps the whole repository (see _add_unreadable);
        without a repository there is nothing to protect."""
        if not repository:
            self._ignore(IGNORED_UNPARSABLE, source)
            return
        if not is_valid_digest(digest):
            reference = f"{repository}@{digest}"[:MAX_REFERENCE_CHARS]
            self._unreadable[repository][reference].add(used_by)
        else:
            self._digests[repository][digest].add(used_by)
        self._sources[source] += 1

    def build(self) -> InUseSet:
        repositories: dict[str, RepositoryUsage] = {}
        for repository in sorted(set(self._digests) | set(self._tags) | set(self._unreadable)):
            digests = self._digests.get(repository, {})
            tags = self._tags.get(repository, {})
            unreadable = self._unreadable.get(repository, {})
            repositories[repository] = RepositoryUsage(
                digests={d: _capped(digests[d]) for d in sorted(digests)},
                tags={t: _capped(tags[t]) for t in sorted(tags)},
                unreadable={r: _capped(unreadable[r]) for r in sorted(unreadable)},
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
