import pytest

from ecr_sweeper.core.in_use import (
    IGNORED_NOT_ECR,
    IGNORED_OTHER_REGISTRY,
    IGNORED_UNPARSABLE,
    MAX_USERS,
    InUseBuilder,
    InUseSet,
    RepositoryUsage,
)
from ecr_sweeper.errors import SourceReadError

ACCT = "123456789012"
REGION = "eu-west-1"
HOST = f"{ACCT}.dkr.ecr.{REGION}.amazonaws.com"
D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def builder() -> InUseBuilder:
    return InUseBuilder(account_id=ACCT, region=REGION)


def test_tag_reference():
    b = builder()
    b.add(f"{HOST}/web:v1", "ecs:task/prod/abc", "ecs")
    built = b.build()
    assert built.usage_for("web") == RepositoryUsage(tags={"v1": ["ecs:task/prod/abc"]})
    assert built.sources == {"ecs": 1}
    assert built.ignored == {}


def test_implicit_latest():
    b = builder()
    b.add(f"{HOST}/team/web", "lambda:fn:3", "lambda")
    assert b.build().usage_for("team/web").tags == {"latest": ["lambda:fn:3"]}


def test_tag_and_digest_both_recorded():
    b = builder()
    b.add(f"{HOST}/web:v1@{D1}", "ecs:service/prod/web", "ecs")
    usage = b.build().usage_for("web")
    assert usage.tags == {"v1": ["ecs:service/prod/web"]}
    assert usage.digests == {D1: ["ecs:service/prod/web"]}


def test_digest_only_records_no_tag():
    b = builder()
    b.add(f"{HOST}/web@{D1}", "x", "s")
    usage = b.build().usage_for("web")
    assert usage.tags == {}
    assert usage.digests == {D1: ["x"]}


def test_other_hosts_forms_of_same_registry_are_recorded():
    b = builder()
    b.add(f"{ACCT}.dkr-ecr.{REGION}.on.aws/web:dual", "a", "s")
    b.add(f"{ACCT}.dkr.ecr-fips.{REGION}.amazonaws.com/web:fips", "b", "s")
    assert set(b.build().usage_for("web").tags) == {"dual", "fips"}


def test_other_account_region_and_non_ecr_are_ignored():
    b = builder()
    b.add(f"210987654321.dkr.ecr.{REGION}.amazonaws.com/web:v1", "a", "ecs")
    b.add(f"{ACCT}.dkr.ecr.us-east-1.amazonaws.com/web:v1", "a", "ecs")
    b.add("nginx:latest", "a", "ecs")
    b.add("public.ecr.aws/nginx/nginx", "a", "ecs")
    b.add("not a reference", "a", "external")
    b.add(f"{HOST}/web:v1", "a", "lambda")
    built = b.build()
    assert built.ignored == {
        IGNORED_NOT_ECR: 2,
        IGNORED_OTHER_REGISTRY: 2,
        IGNORED_UNPARSABLE: 1,
    }
    # A source that recorded nothing still shows up, with 0.
    assert built.sources == {"ecs": 0, "external": 0, "lambda": 1}
    assert list(built.repositories) == ["web"]


def test_add_digest():
    b = builder()
    b.add_digest("web", D1, "ecs:task/prod/abc", "ecs")
    b.add_digest("web", "sha256:nothex", "ecs:task/prod/def", "ecs")
    b.add_digest("", D1, "ecs:task/prod/abc", "ecs")
    built = b.build()
    assert built.usage_for("web").digests == {D1: ["ecs:task/prod/abc"]}
    # a digest that cannot be read keeps the whole repository
    assert built.usage_for("web").unreadable == {"web@sha256:nothex": ["ecs:task/prod/def"]}
    assert built.ignored == {IGNORED_UNPARSABLE: 1}
    assert built.sources == {"ecs": 2}


@pytest.mark.parametrize(
    "reference",
    [f"{HOST}/web:{'t' * 301}", f"{HOST}/web:v 1", f"{HOST}/web@sha256:ABC", f"{HOST}/Web:v1"],
)
def test_an_unreadable_reference_keeps_the_whole_repository_it_names(reference):
    b = builder()
    b.add(reference, "ecs:task/prod/abc", "ecs")
    built = b.build()
    usage = built.usage_for("web")
    assert usage.unreadable == {reference: ["ecs:task/prod/abc"]}
    assert usage.digests == {} and usage.tags == {}
    assert built.ignored == {} and built.sources == {"ecs": 1}
    assert built.image_count() == 1
    assert InUseSet.model_validate_json(built.model_dump_json()) == built


def test_an_unreadable_reference_to_another_registry_is_ignored():
    b = builder()
    b.add(f"210987654321.dkr.ecr.{REGION}.amazonaws.com/web:v 1", "a", "ecs")
    b.add(f"{ACCT}.dkr.ecr.us-east-1.amazonaws.com/web:v 1", "a", "ecs")
    assert b.build().ignored == {IGNORED_OTHER_REGISTRY: 2}


@pytest.mark.parametrize("reference", [f"{HOST}/", f"{HOST}/a b:v1", f"{HOST}//web"])
def test_an_unreadable_reference_to_this_registry_without_a_repository_fails_the_scan(
    reference,
):
    b = builder()
    with pytest.raises(SourceReadError) as info:
        b.add(reference, "ecs:task/prod/abc", "ecs")
    message = str(info.value)
    assert "ecs:task/prod/abc" in message and "cannot be read" in message
    assert "nothing is deleted" in message


def test_usage_for_adds_the_digests_in_use_in_other_repositories():
    b = builder()
    b.add(f"{HOST}/web@{D1}", "ecs:task/prod/abc", "ecs")
    b.add(f"{HOST}/api@{D2}", "lambda:fn:1", "lambda")
    built = b.build()
    assert built.usage_for("sigs").digests_elsewhere == {
        D1: ["web: ecs:task/prod/abc"],
        D2: ["api: lambda:fn:1"],
    }
    assert built.usage_for("web").digests_elsewhere == {D2: ["api: lambda:fn:1"]}
    assert "digests_elsewhere" not in built.usage_for("web").model_dump()  # never stored


def test_users_deduplicated_and_capped():
    b = builder()
    for i in range(12):
        b.add(f"{HOST}/web:v1", f"ecs:task/prod/{i:02d}", "ecs")
        b.add(f"{HOST}/web:v1", f"ecs:task/prod/{i:02d}", "ecs")  # same user twice
    b.add(f"{HOST}/web:v2", "only", "ecs")
    usage = b.build().usage_for("web")
    users = usage.tags["v1"]
    assert users[:MAX_USERS] == [f"ecs:task/prod/{i:02d}" for i in range(MAX_USERS)]
    assert users[MAX_USERS:] == [f"... and {12 - MAX_USERS} more"]
    assert usage.tags["v2"] == ["only"]


def test_exactly_max_users_has_no_marker():
    b = builder()
    for i in range(MAX_USERS):
        b.add_digest("web", D1, f"u{i}", "s")
    assert b.build().usage_for("web").digests[D1] == [f"u{i}" for i in range(MAX_USERS)]


def test_usage_for_absent_repository_is_empty():
    assert builder().build().usage_for("nope") == RepositoryUsage()


def test_image_count():
    b = builder()
    b.add(f"{HOST}/web:v1@{D1}", "a", "s")
    b.add(f"{HOST}/web:v1", "b", "s")
    b.add(f"{HOST}/api@{D1}", "c", "s")
    b.add(f"{HOST}/api@{D2}", "c", "s")
    # web: 1 digest + 1 tag; api: 2 digests
    assert b.build().image_count() == 4


def test_deterministic_and_sorted():
    refs = [
        (f"{HOST}/b:2", "u2"),
        (f"{HOST}/a@{D2}", "u1"),
        (f"{HOST}/a@{D1}", "u3"),
        (f"{HOST}/b:1", "u1"),
        ("nginx", "u1"),
    ]
    one, two = builder(), builder()
    for uri, user in refs:
        one.add(uri, user, "src")
    for uri, user in reversed(refs):
        two.add(uri, user, "src")
    built = one.build()
    assert built.model_dump_json() == two.build().model_dump_json()
    assert list(built.repositories) == ["a", "b"]
    assert list(built.repositories["a"].digests) == [D1, D2]
    assert list(built.repositories["b"].tags) == ["1", "2"]


def test_json_round_trip():
    b = builder()
    b.add(f"{HOST}/web:v1@{D1}", "ecs:task/prod/abc", "ecs")
    b.add("nginx", "x", "ecs")
    built = b.build()
    again = InUseSet.model_validate_json(built.model_dump_json())
    assert again == built
    assert again.account_id == ACCT and again.region == REGION
