"""The artifact mode's runtime: what a function's process can see and write."""

from __future__ import annotations

import errno
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sweeper_emulator.artifact_mode import FunctionProcesses
from sweeper_emulator.runtime import DeployedFunction

PROBE = """
import json, os, sys, tempfile

def handler(event, context):
    seen = {"path": sys.path, "event": event, "function": context.function_name}
    try:
        open(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "written.txt"), "w")
        seen["code_write"] = "allowed"
    except OSError as error:
        seen["code_write"] = error.errno
    with tempfile.NamedTemporaryFile() as scratch:
        scratch.write(b"ok")
        seen["tmp"] = scratch.name
    try:
        import pytest  # in the test's virtualenv, not in the artifact
        seen["pytest"] = "importable"
    except ImportError:
        seen["pytest"] = "missing"
    seen["emulator_settings"] = sorted(k for k in os.environ if k.startswith("SWEEPER_EMULATOR"))
    print(json.dumps({"_aws": {"CloudWatchMetrics": []}, "probe": 1}))
    if event.get("fail"):
        raise ValueError("asked to fail")
    return seen
"""


@pytest.fixture
def processes(tmp_path: Path):
    code = tmp_path / "ProbeFunction"
    code.mkdir()
    (code / "probe.py").write_text(PROBE)
    fn = DeployedFunction(
        logical_id="ProbeFunction",
        name="stack-ProbeFunction",
        arn="arn:aws:lambda:us-east-1:123456789012:function:stack-ProbeFunction",
        handler="probe.handler",
        code_dir=code,
        environment={"RUN_BUCKET": "bucket"},
        memory_mb=128,
        timeout_s=60,
    )
    runner = FunctionProcesses(
        "http://127.0.0.1:9",
        now=datetime(2026, 11, 27, tzinfo=UTC),
        retry_wait_scale=1.0,
        env_overrides={},
    )
    yield runner, fn
    runner.close()


def test_a_function_sees_only_its_artifact_and_writes_only_to_tmp(processes):
    runner, fn = processes
    answer = runner.invoke(fn, "us-east-1", {"hello": "world"})
    seen = answer["result"]
    assert seen["event"] == {"hello": "world"}
    assert seen["function"] == "stack-ProbeFunction"
    assert seen["path"][0] == str(fn.code_dir)
    assert not [p for p in seen["path"] if "site-packages" in p], seen["path"]
    assert seen["pytest"] == "missing"
    assert seen["code_write"] == errno.EROFS
    assert not (fn.code_dir / "written.txt").exists()
    assert seen["tmp"]  # its own temporary directory is writable
    assert seen["emulator_settings"] == []  # the bootstrap's own variables are gone
    assert json.loads(answer["printed"].strip())["probe"] == 1
    assert answer["peak_memory_bytes"] > 0


def test_the_process_stays_warm_and_an_exception_is_an_error_payload(processes):
    runner, fn = processes
    runner.invoke(fn, "us-east-1", {})
    failed = runner.invoke(fn, "us-east-1", {"fail": True})
    assert failed["error"]["errorType"] == "ValueError"
    assert failed["error"]["errorMessage"] == "asked to fail"
    runner.invoke(fn, "us-east-1", {})
    assert runner.cold_starts == 1
