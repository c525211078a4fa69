"""A failure in words: the type, the message and what to do, never the raw JSON."""

import json

from ecr_sweeper import errors
from ecr_sweeper.core.failure_words import (
    DEFAULT_NEXT,
    MESSAGE_LIMIT,
    NEXT_STEPS,
    describe,
    read_failure,
)

LAMBDA_CAUSE = json.dumps(
    {
        "errorMessage": "scan: ecs:ListServices on cluster prod: AccessDeniedException",
        "errorType": "SourceReadError",
        "requestId": "5a1e-req",
        "stackTrace": ['  File "/var/task/x.py", line 3, in handler\n    raise X\n'],
    }
)


def test_a_lambda_error_is_read_into_type_message_request_and_trace() -> None:
    failure = read_failure("SourceReadError", LAMBDA_CAUSE)
    assert failure.error == "SourceReadError"
    assert failure.message.startswith("scan: ecs:ListServices")
    assert failure.request_id == "5a1e-req"
    assert failure.trace and "raise X" in failure.trace[0]


def test_a_cause_that_is_not_the_runtimes_json_is_kept_as_text() -> None:
    failure = read_failure("States.Timeout", "The state did not finish in time")
    assert (failure.error, failure.message, failure.trace) == (
        "States.Timeout",
        "The state did not finish in time",
        [],
    )
    assert read_failure(None, None).error == "Error"


def test_every_error_of_the_product_says_what_to_do() -> None:
    product = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, Exception)
    } - {"SweeperError"}  # the base class is never raised
    assert product - set(NEXT_STEPS) == set()


def test_the_message_has_words_and_links_but_no_trace() -> None:
    failure = read_failure("SourceReadError", LAMBDA_CAUSE)
    described = describe(
        failure,
        state="ScanInUse",
        run="run-1",
        links={"Execution (its steps)": "https://console/x", "Log": ""},
    )
    assert described.subject == "ecr-sweeper: run FAILED in ScanInUse: SourceReadError"
    assert "What happened: scan: ecs:ListServices" in described.message
    assert f"What to do: {NEXT_STEPS['SourceReadError']}" in described.message
    assert "Execution (its steps): https://console/x" in described.message
    assert "Log:" not in described.message  # a link that is not there is not printed
    assert "raise X" not in described.message and "stackTrace" not in described.message
    assert described.cause.startswith("SourceReadError: scan: ecs:ListServices")


def test_a_repository_failure_names_the_repository_and_says_the_others_go_on() -> None:
    failure = read_failure("Lambda.Unknown", "")
    described = describe(failure, state="Delete", run="run-1", repository="team/app")
    assert described.subject.startswith("ecr-sweeper: repository team/app FAILED in Delete")
    assert "Repository: team/app" in described.message
    assert "The other repositories go on" in described.message
    assert f"What to do: {DEFAULT_NEXT}" in described.message


def test_sizes_are_bounded() -> None:
    failure = read_failure("RepositoriesFailed", json.dumps({"errorMessage": "x" * 50_000}))
    described = describe(failure, state="Summarize", run="r" * 300, repository="n" * 256)
    assert len(described.subject) <= 100
    assert len(described.message) < MESSAGE_LIMIT + 2_000
