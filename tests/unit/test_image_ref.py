import pytest

from ecr_sweeper.core.image_ref import (
    ImageRef,
    UnreadableRef,
    ecr_registry,
    is_valid_digest,
    parse_image_ref,
    read_unreadable,
)

ACCT = "123456789012"
D = "sha256:" + "a" * 64
D2 = "sha256:" + "0123456789abcdef" * 4
ECR = f"{ACCT}.dkr.ecr.us-east-1.amazonaws.com"


def ecr(repository, tag=None, digest=None, host=ECR, region="us-east-1", account=ACCT):
    return ImageRef(
        host=host,
        repository=repository,
        tag=tag,
        digest=digest,
        account_id=account,
        region=region,
        is_ecr=True,
    )


def other(host, repository, tag=None, digest=None):
    return ImageRef(
        host=host,
        repository=repository,
        tag=tag,
        digest=digest,
        account_id=None,
        region=None,
        is_ecr=False,
    )


CASES = [
    # ECR host forms
    (f"{ECR}/web:v1", ecr("web", "v1")),
    (f"{ECR}/web", ecr("web", "latest")),
    (f"{ECR}/web@{D}", ecr("web", None, D)),
    (f"{ECR}/web:v1@{D}", ecr("web", "v1", D)),
    (f"{ECR}/team/app/web:1.2.3", ecr("team/app/web", "1.2.3")),
    (f"{ECR}/my_repo-x.y/a__b:tag_1-2.3", ecr("my_repo-x.y/a__b", "tag_1-2.3")),
    (
        f"{ACCT}.dkr.ecr.cn-north-1.amazonaws.com.cn/web:v1",
        ecr("web", "v1", host=f"{ACCT}.dkr.ecr.cn-north-1.amazonaws.com.cn", region="cn-north-1"),
    ),
    (
        f"{ACCT}.dkr.ecr-fips.us-gov-west-1.amazonaws.com/web:v1",
        ecr(
            "web",
            "v1",
            host=f"{ACCT}.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
            region="us-gov-west-1",
        ),
    ),
    (
        f"{ACCT}.dkr-ecr.eu-west-1.on.aws/web@{D}",
        ecr("web", None, D, host=f"{ACCT}.dkr-ecr.eu-west-1.on.aws", region="eu-west-1"),
    ),
    (
        f"{ACCT}.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn/web",
        ecr(
            "web",
            "latest",
            host=f"{ACCT}.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn",
            region="cn-northwest-1",
        ),
    ),
    (f"{ECR}:443/web:v1", ecr("web", "v1", host=f"{ECR}:443")),
    # Upper-case host is the same registry (DNS is case-insensitive)
    (
        f"{ACCT}.DKR.ECR.US-EAST-1.AMAZONAWS.COM/web:v1",
        ecr("web", "v1", host=f"{ACCT}.DKR.ECR.US-EAST-1.AMAZONAWS.COM"),
    ),
    # surrounding whitespace is tolerated
    (f"  {ECR}/web:v1\n", ecr("web", "v1")),
    # not ECR
    ("nginx", other("", "nginx", "latest")),
    ("nginx:1.27", other("", "nginx", "1.27")),
    ("library/nginx@" + D, other("", "library/nginx", None, D)),
    ("docker.io/library/nginx:1", other("docker.io", "library/nginx", "1")),
    ("public.ecr.aws/nginx/nginx:latest", other("public.ecr.aws", "nginx/nginx", "latest")),
    ("ghcr.io/org/tool:v2@" + D2, other("ghcr.io", "org/tool", "v2", D2)),
    ("localhost/app", other("localhost", "app", "latest")),
    ("localhost:5000/app:dev", other("localhost:5000", "app", "dev")),
    ("registry:5000/team/app", other("registry:5000", "team/app", "latest")),
    ("10.0.0.1:5000/app:1", other("10.0.0.1:5000", "app", "1")),
    ("[::1]:5000/app", other("[::1]:5000", "app", "latest")),
    ("sub.example.com:8443/ns/app:tag", other("sub.example.com:8443", "ns/app", "tag")),
    # an upper-case first component is a host, as in docker
    ("UPPER/app", other("UPPER", "app", "latest")),
]


@pytest.mark.parametrize(("uri", "expected"), CASES)
def test_parse(uri, expected):
    assert parse_image_ref(uri) == expected


@pytest.mark.parametrize(
    "uri",
    [
        f"{ACCT}.dkr.ecr.us-east-1.amazonaws.com.evil.io/web",
        "1234.dkr.ecr.us-east-1.amazonaws.com/web:v1",
        f"docker.io/{ACCT}.dkr.ecr.us-east-1.amazonaws.com/web",
        "evil.io/123456789012.dkr.ecr.us-east-1.amazonaws.com/web",
        "dkr.ecr.us-east-1.amazonaws.com/web",
    ],
)
def test_lookalike_hosts_are_not_ecr(uri):
    ref = parse_image_ref(uri)
    assert ref is not None
    assert ref.is_ecr is False
    assert ref.account_id is None and ref.region is None


@pytest.mark.parametrize(
    "uri",
    [
        "",
        "   ",
        "https://example.com/app:v1",
        "Web:v1",
        f"{ECR}/Web:v1",
        f"{ECR}/web:",
        f"{ECR}/web:v1:v2",
        f"{ECR}/web@",
        f"{ECR}/web@sha256:abc",
        f"{ECR}/web@sha256:{'A' * 64}",
        f"{ECR}/web@sha256:{'a' * 63}",
        f"{ECR}/web@sha256:{'a' * 65}",
        f"{ECR}/web@md5",
        f"{ECR}/web@{D}@{D}",
        f"{ECR}//web",
        f"{ECR}/web/",
        f"{ECR}/-web",
        f"{ECR}/web:-v1",
        f"{ECR}/web:{'t' * 301}",
        f"{ECR}/" + "a" * 257,
        f"{ECR}/web:v 1",
        "web tag",
        "repo:tag\x00",
        ":tag",
        "@" + D,
        "a/b/../c",
    ],
)
def test_garbage(uri):
    assert parse_image_ref(uri) is None


def test_non_string_is_garbage():
    assert parse_image_ref(None) is None  # type: ignore[arg-type]


def test_tag_and_digest_both_kept():
    ref = parse_image_ref(f"{ECR}/web:v1@{D}")
    assert ref is not None
    assert (ref.tag, ref.digest) == ("v1", D)


def test_digest_only_has_no_implicit_tag():
    ref = parse_image_ref(f"{ECR}/web@{D}")
    assert ref is not None
    assert ref.tag is None


@pytest.mark.parametrize("length", [128, 129, 255, 300])
def test_tags_up_to_ecrs_300_characters(length):
    """Docker stops at 128 characters, ECR at 300: a longer tag dropped by the parser
    would leave its image unprotected."""
    ref = parse_image_ref(f"{ECR}/web:{'t' * length}")
    assert ref is not None and ref.tag == "t" * length


def test_repository_names_up_to_ecrs_256_characters():
    """Docker caps the whole name at 255; an ECR repository name alone may have 256."""
    name = "/".join(["a" * 63] * 4) + "b"
    assert len(name) == 256
    ref = parse_image_ref(f"{ECR}/{name}:v1")
    assert ref is not None and ref.repository == name


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (f"{ECR}/web:{'t' * 301}", "web"),
        (f"{ECR}/team/web:v 1", "team/web"),
        (f"{ECR}/web@sha256:abc", "web"),
        (f"{ECR}/Web:v1", "web"),  # ECR names are lowercase
        (f"  https://{ECR}/web:v1", "web"),
        (f"{ECR}:443/web:-v1", "web"),
        (f"{ECR}/web/:v1", None),
        (f"{ECR}//web", None),
        (f"{ECR}/", None),
        (f"{ECR}/a web:v1", None),
    ],
)
def test_what_an_unreadable_reference_still_names(uri, expected):
    assert parse_image_ref(uri) is None
    assert read_unreadable(uri) == UnreadableRef(ACCT, "us-east-1", expected)


@pytest.mark.parametrize("uri", ["web tag", "https://example.com/app:v1", "", f"x{ACCT}"])
def test_an_unreadable_reference_naming_no_ecr_registry_names_nothing_here(uri):
    assert read_unreadable(uri) is None


def test_the_registry_of_an_unreadable_reference_is_its_own():
    assert read_unreadable(f"2{ACCT}.dkr.ecr.us-east-1.amazonaws.com/web:a b") is None
    other = "210987654321.dkr-ecr.eu-west-1.on.aws/web:a b"
    assert read_unreadable(other) == UnreadableRef("210987654321", "eu-west-1", "web")


@pytest.mark.parametrize(
    ("digest", "valid"),
    [
        (D, True),
        (D2, True),
        ("sha512:" + "b" * 128, True),
        ("sha512:" + "b" * 64, False),
        ("sha256:" + "A" * 64, False),
        ("sha256:" + "g" * 64, False),
        ("blake3:" + "c" * 64, True),
        ("blake3:" + "c" * 16, False),
        ("sha256" + "a" * 64, False),
        (":" + "a" * 64, False),
    ],
)
def test_is_valid_digest(digest, valid):
    assert is_valid_digest(digest) is valid


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        (ECR, (ACCT, "us-east-1")),
        (f"{ACCT}.dkr.ecr.ap-southeast-3.amazonaws.com", (ACCT, "ap-southeast-3")),
        (f"{ACCT}.dkr.ecr.cn-north-1.amazonaws.com.cn", (ACCT, "cn-north-1")),
        (f"{ACCT}.dkr.ecr-fips.us-east-2.amazonaws.com", (ACCT, "us-east-2")),
        (f"{ACCT}.dkr-ecr.us-west-2.on.aws", (ACCT, "us-west-2")),
        (f"{ACCT}.dkr-ecr-fips.us-west-2.on.aws", (ACCT, "us-west-2")),
        (f"{ACCT}.dkr.ecr.us-east-1.amazonaws.com:443", (ACCT, "us-east-1")),
        (f"{ACCT}.dkr.ecr.us-east-1.amazonaws.com:5000", None),
        ("public.ecr.aws", None),
        (f"{ACCT}.ecr.us-east-1.amazonaws.com", None),
        ("", None),
    ],
)
def test_ecr_registry(host, expected):
    assert ecr_registry(host) == expected
