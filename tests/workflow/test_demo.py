"""The bundled example account, as `make demo` runs it."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from sweeper_emulator.emulator import Emulator
from sweeper_emulator.inventory import load_inventory

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "blog-account.json"
CONFIG = ROOT / "config" / "ecrm.yaml"


def example_digest(repository: str, index: int) -> str:
    return "sha256:" + hashlib.sha256(f"{repository}/{index}".encode()).hexdigest()


# Worked out by hand from examples/make_blog_account.py: the expired images that no
# source uses and no keep_count slot (3) keeps.
EXPECTED = {
    "example-web": {example_digest("example-web", i) for i in (50, 51, 52, 53, 54)},
    "example-app": {example_digest("example-app", i) for i in (50, 51, 52, 53, 54)},
    "platform/base": set(),
}


def test_dry_run_then_delete_on_one_account():
    with Emulator(load_inventory(EXAMPLE), config_file=CONFIG) as emulator:
        dry = emulator.run()  # no input at all: a dry run
        assert dry["status"] == "SUCCEEDED"
        assert dry["output"]["dry_run"] is True
        assert all(not r["deleted"] for r in dry["repositories"].values())
        assert dry["output"]["images_deleted"] == 10  # what it would delete

        real = emulator.run('{"dry_run": false}')
        assert real["status"] == "SUCCEEDED", real
        for repository, expected in EXPECTED.items():
            assert set(real["repositories"][repository]["deleted"]) == expected, repository
        assert real["output"]["images_deleted"] == 10
        assert real["output"]["bytes_reclaimed"] == 10 * 16_800_000
        report = json.loads(emulator.read_run_file(real["output"]["execution_name"], "report.json"))
        rows = {line["repository"]: line["rows"] for line in report["repositories"]}
        assert rows["example-web"][0]["total"]["count"] == 55
        assert rows["example-web"][0]["expired"]["count"] == 5
        assert rows["example-web"][0]["keep"]["count"] == 50
        assert "platform/base" not in rows  # no rule matches it: never even listed

        again = emulator.run('{"dry_run": false}')  # nothing left to do
        assert again["status"] == "SUCCEEDED"
        assert all(not r["deleted"] for r in again["repositories"].values())


def test_the_artifact_and_the_in_process_handlers_do_the_same(artifact):
    """The same runs with each function from its `sam build` artifact, in a process of
    its own, and with the handlers in this process: the same digests deleted and the
    same AWS calls, operation by operation, in both the dry and the deleting run."""
    results = {}
    for mode, from_build in (("in-process", None), ("artifact", artifact)):
        with Emulator(
            load_inventory(EXAMPLE), config_file=CONFIG, from_build=from_build
        ) as emulator:
            results[mode] = [emulator.run(), emulator.run('{"dry_run": false}')]
    for dry, real in results.values():
        assert dry["status"] == real["status"] == "SUCCEEDED"
        for repository, expected in EXPECTED.items():
            assert set(real["repositories"][repository]["deleted"]) == expected, repository
    for index in (0, 1):
        in_process, from_artifact = results["in-process"][index], results["artifact"][index]
        assert from_artifact["repositories"] == in_process["repositories"]
        assert from_artifact["api_calls"] == in_process["api_calls"]
        assert from_artifact["api_calls"]["ecr:DescribeImages"] > 0
        assert {m["function"] for m in from_artifact["metrics"]} == {
            m["function"] for m in in_process["metrics"]
        }


def run_cli(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sweeper_emulator", "run", "--inventory", str(EXAMPLE), *arguments],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def _readme_table() -> list[str]:
    """The table the README's quick start says `make demo` prints."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split(" REPOSITORY ", 1)[1].split("```", 1)[0]
    lines = [" ".join(("REPOSITORY " + block).splitlines()[0].split())]
    lines += [" ".join(line.split()) for line in block.splitlines()[2:] if line.strip()]
    return lines


def test_the_demo_command_runs_the_artifact_and_prints_what_the_readme_says(tmp_path, artifact):
    """What `make demo` runs: each function from its `sam build` artifact."""
    makefile = (ROOT / "Makefile").read_text()
    assert "--from-build $(ARTIFACT) --input '{\"dry_run\": false}'" in makefile
    result_file = tmp_path / "result.json"
    completed = run_cli(
        "--config",
        str(CONFIG),
        "--input",
        '{"dry_run": false}',
        "--result",
        str(result_file),
        "--from-build",
        str(artifact),
    )
    assert completed.returncode == 0, completed.stderr
    table = [" ".join(line.split()) for line in completed.stdout.splitlines()]
    expected = _readme_table()
    assert len(expected) == 5 and expected[0].startswith("REPOSITORY | TYPE")
    assert expected[-1].startswith("TOTAL | | 110 (1.8 GB) | -10 (168 MB)")
    assert all(line in table for line in expected), (expected, completed.stdout)
    assert "example-web | Image | 55 (924 MB) | -5 (84 MB) | 50 (840 MB) | ok" in table
    assert "Deleted 5 images on example-web" in completed.stdout
    result = json.loads(result_file.read_text())
    assert result["status"] == "SUCCEEDED"
    assert set(result["repositories"]["example-app"]["deleted"]) == EXPECTED["example-app"]
    assert result["api_calls"]["ecr:BatchDeleteImage"] == 2
    assert result["history_events"] > 0 and result["max_state_payload_bytes"] > 0


def test_cli_exits_non_zero_when_the_run_fails(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("repositories:\n  - name: x\n    expires: 30 dayz\n")
    completed = run_cli("--config", str(bad))
    assert completed.returncode == 1
    assert "FAILED" in completed.stdout and "ConfigError" in completed.stdout
