"""Parse container image references and recognise Amazon ECR registries.

A reference follows the docker grammar ``[host[:port]/]path[:tag][@digest]``.
Unlike ecrm, which compares URIs as exact strings, ecr-sweeper parses them, so
``repo`` (implicit ``latest``), ``repo:tag@digest`` and the China / FIPS /
dual-stack ECR hosts all count as what they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

IMPLICIT_TAG = "latest"

# docker/distribution reference grammar.
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH_RE = re.compile(rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST_RE = re.compile(
    rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
)
# Docker limits a tag to 128 characters, ECR to 300 (PutImage); an ECS image string
# holds up to 255 in all. A reference is read with ECR's limits: a longer tag the
# parser dropped would leave its image unprotected.
_TAG_RE = re.compile(r"[\w][\w.-]{0,299}", re.ASCII)
_REPOSITORY_MAX_LENGTH = 256  # ECR's limit on a repository name

# OCI digest: algorithm ":" encoded. The registered algorithms have fixed lengths.
_ALGORITHM_RE = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*")
_HEX_LENGTHS = {"sha256": 64, "sha512": 128}
_HEX_RE = re.compile(r"[a-f0-9]+")
_MIN_UNKNOWN_HEX = 32

# Private ECR registry hosts. An optional ":443" is the same registry.
_ECR_HOST_RES: tuple[re.Pattern[str], ...] = (
    # <acct>.dkr.ecr.<region>.amazonaws.com[.cn], FIPS: dkr.ecr-fips
    re.compile(r"(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?(?::443)?"),
    # dual-stack: <acct>.dkr-ecr[-fips].<region>.on.aws, China: .on.amazonwebservices.com.cn
    re.compile(
        r"(\d{12})\.dkr-ecr(?:-fips)?\.([a-z0-9-]+)\.on\.(?:aws|amazonwebservices\.com\.cn)"
        r"(?::443)?"
    ),
)


# The same hosts anywhere in a text (not after a digit: the account is 12 digits).
_ECR_HOST_SEARCH_RES = tuple(re.compile(r"(?<![0-9])" + p.pattern) for p in _ECR_HOST_RES)


@dataclass(frozen=True, slots=True)
class ImageRef:
    """A parsed image reference.

    ``host`` is ``""`` when the reference names no registry (Docker Hub implied).
    ``tag`` is ``"latest"`` when the reference has neither tag nor digest; a
    reference ``repo:tag@digest`` keeps both.
    """

    host: str
    repository: str
    tag: str | None
    digest: str | None
    account_id: str | None
    region: str | None
    is_ecr: bool


def is_valid_digest(digest: str) -> bool:
    """``<algorithm>:<lowercase hex>``; sha256 needs exactly 64 hex digits."""
    algorithm, sep, encoded = digest.partition(":")
    if not sep or not _ALGORITHM_RE.fullmatch(algorithm) or not _HEX_RE.fullmatch(encoded):
        return False
    expected = _HEX_LENGTHS.get(algorithm)
    if expected is not None:
        return len(encoded) == expected
    return len(encoded) >= _MIN_UNKNOWN_HEX


def is_valid_tag(tag: str) -> bool:
    return _TAG_RE.fullmatch(tag) is not None


def ecr_registry(host: str) -> tuple[str, str] | None:
    """``(account_id, region)`` when ``host`` is a private ECR registry host."""
    lowered = host.lower()
    for pattern in _ECR_HOST_RES:
        match = pattern.fullmatch(lowered)
        if match:
            return match.group(1), match.group(2)
    return None


def _split_host(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first.lower() != first):
        return first, rest
    return "", name


def parse_image_ref(uri: str) -> ImageRef | None:
    """Parse ``uri``; ``None`` when it is not a valid image reference."""
    if not isinstance(uri, str):
        return None
    text = uri.strip()
    if not text:
        return None

    digest: str | None = None
    name, at, digest_part = text.partition("@")
    if at:
        if not is_valid_digest(digest_part):
            return None
        digest = digest_part

    host, remainder = _split_host(name)
    if host and not _HOST_RE.fullmatch(host):
        return None

    tag: str | None = None
    path, colon, tag_part = remainder.rpartition(":")
    if colon:
        if not is_valid_tag(tag_part):
            return None
        tag = tag_part
    else:
        path = remainder
    if not _PATH_RE.fullmatch(path) or len(path) > _REPOSITORY_MAX_LENGTH:
        return None

    if tag is None and digest is None:
        tag = IMPLICIT_TAG

    registry = ecr_registry(host) if host else None
    return ImageRef(
        host=host,
        repository=path,
        tag=tag,
        digest=digest,
        account_id=registry[0] if registry else None,
        region=registry[1] if registry else None,
        is_ecr=registry is not None,
    )


@dataclass(frozen=True, slots=True)
class UnreadableRef:
    """What can still be read from a reference :func:`parse_image_ref` cannot read."""

    account_id: str
    region: str
    # The repository it names, or None when even that cannot be read.
    repository: str | None


def read_unreadable(uri: str) -> UnreadableRef | None:
    """The ECR registry an unreadable reference names and, if it can be read, its
    repository: the text after the first ECR host up to a tag or digest, lowercased
    (an ECR repository name is lowercase). None when the text names no ECR registry,
    so it cannot name an image of one."""
    if not isinstance(uri, str):
        return None
    text = uri.strip().lower()
    found = [m for m in (p.search(text) for p in _ECR_HOST_SEARCH_RES) if m]
    if not found:
        return None
    host = min(found, key=lambda m: m.start())
    rest = text[host.end() :]
    repository = None
    if rest.startswith("/"):
        path = re.split(r"[:@]", rest[1:], maxsplit=1)[0]
        repository = path if _PATH_RE.fullmatch(path) else None
    return UnreadableRef(account_id=host.group(1), region=host.group(2), repository=repository)


# Kubernetes reports the image a container runs (containerStatuses[].imageID) behind the
# container runtime's prefix: dockershim wrote docker-pullable://<repo>@<digest> (and
# docker:// for an image it had no repo digest for), and the containerd and CRI-O forms
# are kept as copied. What follows the prefix is an image reference.
RUNTIME_PREFIXES = ("docker-pullable://", "docker://", "containerd://", "cri-o://")


def strip_runtime_prefix(entry: str) -> str:
    """`entry` without the container runtime's prefix, if it has one."""
    text = entry.strip()
    for prefix in RUNTIME_PREFIXES:
        if text.startswith(prefix):
            return text.removeprefix(prefix)
    return text


def is_local_image_id(text: str) -> bool:
    """docker://sha256:<hex> is a local image ID: it names no repository, so no image."""
    return is_valid_digest(text)


def runtime_image_reference(entry: str) -> str | None:
    """The image reference an entry (of an in-use list, a Kubernetes `imageID`) names,
    its runtime prefix removed; None if it names no image (not a reference, or an image
    ID with no repository)."""
    text = strip_runtime_prefix(entry)
    if is_local_image_id(text) or parse_image_ref(text) is None:
        return None
    return text
