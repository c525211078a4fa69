"""A config written by `ecr-sweeper generate` on an account that runs nothing yet turns no
source off: what runs later is still seen, and protected, by a deleting run."""

from pathlib import Path

from click.testing import CliRunner
from conftest import deleted, digest, image, inventory, remaining, uri

from ecr_sweeper.cli import main
from sweeper_emulator.emulator import Emulator
from sweeper_emulator.inventory import inventory_from_dict

# v1 is the oldest of seven tagged images: keep_count 5 does not keep it, only its use does.
TAGS = ["v1", "v2", "v3", "v4", "v5", "v6", "v7"]


def _images() -> list[dict]:
    return [image(tag, tags=[tag], age_days=90 - i) for i, tag in enumerate(TAGS)]


def _generate(tmp_path: Path) -> Path:
    """generate on the account as it is before anything runs: repositories only."""
    out = tmp_path / "generated.yaml"
    with Emulator(inventory_from_dict(inventory({"app-web": _images()}))):
        result = CliRunner().invoke(main, ["generate", "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


def test_a_task_started_after_generate_keeps_its_image(tmp_path):
    config = _generate(tmp_path)
    running = {
        "clusters": [
            {
                "name": "prod",
                "tasks": [
                    {
                        "task_definition": "web:1",
                        "desired_status": "RUNNING",
                        "containers": [
                            {"image": uri("app-web", ":v1"), "image_digest": digest("v1")}
                        ],
                    }
                ],
            }
        ]
    }
    data = inventory({"app-web": _images()}, ecs=running)
    with Emulator(inventory_from_dict(data), config_file=config) as emulator:
        result = emulator.run('{"dry_run": false}')
    assert result["status"] == "SUCCEEDED", result
    assert digest("v1") in remaining(result, "app-web")
    assert deleted(result, "app-web") == {digest("v2")}  # the sixth newest, unused


def test_the_generated_config_fails_a_scan_that_finds_nothing(tmp_path):
    """Every source is read, so the nothing-in-use guard is on too."""
    config = _generate(tmp_path)
    with Emulator(
        inventory_from_dict(inventory({"app-web": _images()})), config_file=config
    ) as emulator:
        result = emulator.run('{"dry_run": false}')
    assert result["status"] == "FAILED"
    assert result["error"] == "NothingInUse"
    assert deleted(result, "app-web") == set()
