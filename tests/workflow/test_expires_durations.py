"""`expires` is read as ecrm reads it: every unit spelling of its duration parser,
and a minus sign that carries to the terms after it. A duration that comes to zero
or less is refused, naming the rule, before anything is read."""

from datetime import timedelta

import pytest
from conftest import NOW, deleted, digest, image, inventory, remaining, stamp

# Each repository has a rule whose `expires` comes to 30 days, written another way.
SPELLINGS = {
    "ns": "2592000000000000 nsec",
    "us": "2592000000000 usec",
    "ms": "2592000000 msec",
    "long": "4 weeks 1 day 23 hours 59 minutes 59 seconds 999 milliseconds 1000 microseconds",
    "minus": "31d-12h12h",  # 31 days - 12 hours - 12 hours
}


def _pushed(label: str, before_now: timedelta) -> dict:
    return image(label, tags=[label], pushed_at=stamp(NOW - before_now))


def test_every_ecrm_unit_and_a_carried_minus_sign(run_workflow):
    rules = "\n".join(
        f"  - {{name: {name}, expires: '{text}', keep_tag_patterns: []}}"
        for name, text in SPELLINGS.items()
    )
    config = f"safety: {{allow_nothing_in_use: true}}\nrepositories:\n{rules}\n"
    images = [
        _pushed("old", timedelta(days=30, seconds=1)),
        _pushed("edge", timedelta(days=30)),
        _pushed("new", timedelta(days=29)),
    ]
    result = run_workflow(inventory(dict.fromkeys(SPELLINGS, images)), config=config)
    assert result["status"] == "SUCCEEDED", result
    for name in SPELLINGS:
        assert deleted(result, name) == {digest("old")}, name
        assert remaining(result, name) == {digest("edge"), digest("new")}, name


@pytest.mark.parametrize("expires", ["1d-24h", "1d-2h-22h", "-30d", "0s"])
def test_an_expires_of_zero_or_less_is_refused_before_anything_is_read(run_workflow, expires):
    config = (
        "repositories:\n"
        "  - {name: other, expires: 30d}\n"
        f"  - {{name_pattern: 'app*', expires: '{expires}'}}\n"
    )
    result = run_workflow(inventory({"app": [image("x", age_days=400)]}), config=config)
    assert result["status"] == "FAILED"
    assert result["error"] == "ConfigError"
    assert not result["repositories"]["app"]["deleted"]
    (note,) = result["notifications"]
    assert f"repositories[1].expires: invalid duration '{expires}'" in note["message"]
    assert "comes to zero or less" in note["message"]
    assert "every image of the repositories name_pattern=app* matches" in note["message"]
