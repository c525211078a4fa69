"""Property: whatever faults strike a deleting run, no in-use image is deleted and
nothing is deleted that the dry run did not plan."""

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_graph_properties import account_for, graphs, planned_deletions

from sweeper_emulator.emulator import Emulator
from sweeper_emulator.inventory import inventory_from_dict

OPERATIONS = [
    "ecr:DescribeRepositories",
    "ecs:ListTaskDefinitionFamilies",
    "ecs:DescribeTaskDefinition",
    "resource-groups-tagging-api:GetResources",
    "ecr:ListTagsForResource",
    "ecr:DescribeImages",
    "ecr:BatchDeleteImage",
    "s3:PutObject",
    "s3:GetObject",
    "s3:ListObjectsV2",
]
FUNCTIONS = [
    None,
    "InUseScanFunction",
    "CollectorFunction",
    "EvaluatorFunction",
    "CapsFunction",
    "DeleterFunction",
    "SummaryFunction",
]

faults = st.lists(
    st.fixed_dictionaries(
        {
            "operation": st.sampled_from(OPERATIONS),
            "error": st.sampled_from(
                [
                    "ThrottlingException",
                    "AccessDeniedException",
                    "InternalServerError",
                    "Runtime.ExitError",
                ]
            ),
            "times": st.one_of(st.none(), st.integers(1, 3)),
            "skip": st.integers(0, 2),
            "function": st.sampled_from(FUNCTIONS),
        }
    ).map(lambda f: {**f, "crash": f["error"] == "Runtime.ExitError"}),
    max_size=2,
)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(graph=graphs(), injected=faults)
def test_faults_never_delete_what_is_used_or_unplanned(tmp_path: Path, graph, injected) -> None:
    images, references, _ = graph
    config, data = account_for(tmp_path, graph)
    with Emulator(inventory_from_dict(data), config_file=config) as emulator:
        planned = planned_deletions(emulator)
        emulator.inventory.faults[:] = inventory_from_dict({**data, "faults": injected}).faults
        real = emulator.run('{"dry_run": false}')
    gone = set(real["repositories"]["app"]["deleted"])
    assert gone <= planned, injected
    used_digests = {r.split("@")[1] for r in references if "@" in r}
    used_tags = {r.rsplit(":", 1)[1] for r in references if "@" not in r}
    tags = {i["digest"]: set(i["tags"]) for i in images}
    for digest in gone:
        assert digest not in used_digests
        assert not used_tags & tags[digest]
    if real["status"] == "SUCCEEDED":
        assert gone == planned, injected
    else:
        assert real["notifications"], "a failed run always notifies"
