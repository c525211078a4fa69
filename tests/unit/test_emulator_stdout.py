"""The emulator captures a handler's own output (its EMF metrics) without taking what
other threads print meanwhile, such as a command following the run."""

from __future__ import annotations

import io
import sys
import threading

from sweeper_emulator.runtime import _own_stdout


def test_a_handlers_capture_leaves_other_threads_output_alone(monkeypatch) -> None:
    elsewhere = io.StringIO()
    monkeypatch.setattr(sys, "stdout", elsewhere)
    captured = io.StringIO()
    with _own_stdout(captured):
        print('{"_aws": "the handler"}')
        other = threading.Thread(target=lambda: print("a command's line"))
        other.start()
        other.join()
    assert captured.getvalue() == '{"_aws": "the handler"}\n'
    assert elsewhere.getvalue() == "a command's line\n"
    assert sys.stdout is elsewhere
