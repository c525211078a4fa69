"""An image is expired only when pushed strictly before the cutoff (now - expires),
as in ecrm: one pushed exactly at the cutoff stays."""

from datetime import timedelta

from conftest import NOW, deleted, digest, image, inventory, remaining, stamp

CONFIG = (
    "safety: {allow_nothing_in_use: true}\n"  # the account runs nothing
    "repositories: [{name: app, expires: 30d, keep_tag_patterns: []}]\n"
)


def _pushed(label: str, before_now: timedelta) -> dict:
    return image(label, tags=[label], pushed_at=stamp(NOW - before_now))


def test_an_image_pushed_exactly_at_the_cutoff_is_kept(run_workflow):
    data = inventory(
        {
            "app": [
                _pushed("before", timedelta(days=30, seconds=1)),
                _pushed("at", timedelta(days=30)),
                _pushed("after", timedelta(days=30, seconds=-1)),
            ]
        }
    )
    result = run_workflow(data, config=CONFIG)
    assert result["status"] == "SUCCEEDED", result
    assert remaining(result, "app") == {digest("at"), digest("after")}
    assert deleted(result, "app") == {digest("before")}
