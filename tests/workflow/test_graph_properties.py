"""Property: on random image graphs and in-use sets, through the real workflow,
nothing in use or needed by a kept image is deleted, and the delete run removes
exactly what the dry run planned."""

from datetime import timedelta
from pathlib import Path

from conftest import NOW, digest, inventory, stamp, uri
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sweeper_emulator.emulator import Emulator
from sweeper_emulator.inventory import inventory_from_dict

INDEX = "application/vnd.oci.image.index.v1+json"
TAGS = ["a", "b", "c", "latest"]


@st.composite
def graphs(draw: st.DrawFn) -> tuple[list[dict], list[str], int]:
    count = draw(st.integers(2, 7))
    images = []
    for i in range(count):
        entry = {
            "digest": digest(f"g{i}"),
            "tags": draw(st.lists(st.sampled_from(TAGS), max_size=2, unique=True)),
            "pushed_at": stamp(NOW - timedelta(days=draw(st.integers(1, 90)))),
            "size_bytes": draw(st.integers(1, 10**6)),
        }
        role = draw(st.sampled_from(["image", "image", "index", "referrer"]))
        later = [digest(f"g{j}") for j in range(i + 1, count)]
        if role == "index" and later:
            entry["media_type"] = INDEX
            entry["manifests"] = draw(st.lists(st.sampled_from(later), max_size=3, unique=True))
        elif role == "referrer":
            entry["subject"] = draw(st.sampled_from([*later, digest("missing")]))
            entry["artifact_media_type"] = "application/vnd.dev.cosign.artifact.sig.v1+json"
        images.append(entry)
    # Tags are unique within a repository, as in ECR.
    seen: set[str] = set()
    for entry in images:
        entry["tags"] = [t for t in entry["tags"] if not (t in seen or seen.add(t))]
    references = draw(
        st.lists(
            st.one_of(
                st.sampled_from(TAGS).map(lambda t: uri("app", f":{t}")),
                st.integers(0, count - 1).map(lambda i: uri("app", f"@{digest(f'g{i}')}")),
            ),
            max_size=3,
        )
    )
    return images, references, draw(st.integers(0, 2))


def account_for(tmp_path: Path, graph) -> tuple[Path, dict]:
    """The config file and inventory of one random graph: repository `app`, its in-use
    references held by the task definition `uses:1`."""
    images, references, keep_count = graph
    config = tmp_path / "ecrm.yaml"
    config.write_text(
        "safety: {allow_nothing_in_use: true, max_delete_ratio: 1.0}\n"
        "clusters: []\nlambda_functions: []\n"
        "task_definitions: [{name: uses, keep_count: 1}]\n"
        f"repositories: [{{name: app, expires: 30d, keep_count: {keep_count},"
        " keep_tag_patterns: []}]\n"
    )
    data = inventory(
        {"app": images},
        ecs={"task_definitions": [{"family": "uses", "revision": 1, "images": references}]},
    )
    return config, data


def planned_deletions(emulator: Emulator) -> set[str]:
    """Run a dry run on the emulator; the digests its plan would delete."""
    dry = emulator.run()
    assert dry["status"] == "SUCCEEDED", dry
    result = emulator.repository_results(dry["execution_arn"], ["app"])["app"]
    assert result is not None, dry
    return {a["digest"] for a in result["planned"]}


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(graph=graphs())
def test_random_graphs_keep_their_promises(tmp_path: Path, graph) -> None:
    images, references, _ = graph
    config, data = account_for(tmp_path, graph)
    with Emulator(inventory_from_dict(data), config_file=config) as emulator:
        planned = planned_deletions(emulator)
        real = emulator.run('{"dry_run": false}')
    assert real["status"] == "SUCCEEDED", real
    gone = set(real["repositories"]["app"]["deleted"])
    left = set(real["repositories"]["app"]["remaining"])
    assert gone == planned

    by_digest = {i["digest"]: i for i in images}
    used_digests = {r.split("@")[1] for r in references if "@" in r}
    used_tags = {r.rsplit(":", 1)[1] for r in references if "@" not in r}
    for d in gone:
        assert d not in used_digests
        assert not used_tags & set(by_digest[d]["tags"])
    for d in left:
        # A kept index keeps every child.
        assert set(by_digest[d].get("manifests", [])) & set(by_digest) <= left
    for d in gone:
        subject = by_digest[d].get("subject")
        assert subject is None or subject not in left  # no kept subject loses a referrer
        # These signatures are artifacts: ecrm never deletes one, and by default
        # neither do we, even once their subject is gone.
        assert "artifact_media_type" not in by_digest[d]
