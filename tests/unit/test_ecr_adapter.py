"""The deleter's reading of BatchDeleteImage answers: every failures[] entry counts."""

from ecr_sweeper.adapters.ecr import delete_images

A, B, C = ("sha256:" + c * 64 for c in "abc")


class FakeEcr:
    """Answers BatchDeleteImage from a script: digest -> failure code (absent: deleted)."""

    def __init__(self, failures: dict[str, list[str]]) -> None:
        self.failures = failures  # digest -> codes for successive attempts
        self.calls: list[list[str]] = []

    def batch_delete_image(self, repositoryName: str, imageIds: list[dict]) -> dict:
        digests = [i["imageDigest"] for i in imageIds]
        self.calls.append(digests)
        response: dict = {"imageIds": [], "failures": []}
        for digest in digests:
            codes = self.failures.get(digest, [])
            code = codes.pop(0) if codes else None
            if code:
                response["failures"].append(
                    {"imageId": {"imageDigest": digest}, "failureCode": code, "failureReason": "x"}
                )
            else:
                response["imageIds"].append({"imageDigest": digest})
        return response


def test_already_gone_is_not_a_failure():
    outcome = delete_images(FakeEcr({B: ["ImageNotFound"]}), "r", [A, B])
    assert outcome.deleted == [A]
    assert outcome.already_gone == [B]
    assert outcome.failures == []


def test_a_child_still_listed_by_an_index_is_retried_after_the_rest():
    ecr = FakeEcr({C: ["ImageReferencedByManifestList"]})
    outcome = delete_images(ecr, "r", [A, C])
    assert ecr.calls == [[A, C], [C]]
    assert sorted(outcome.deleted) == sorted([A, C])
    assert outcome.failures == []


def test_a_child_that_stays_referenced_is_a_failure_not_a_silent_success():
    ecr = FakeEcr({C: ["ImageReferencedByManifestList", "ImageReferencedByManifestList"]})
    outcome = delete_images(ecr, "r", [C])
    assert outcome.deleted == []
    assert outcome.failures == [(C, "ImageReferencedByManifestList", "x")]


def test_other_failures_are_reported():
    outcome = delete_images(FakeEcr({A: ["KmsError"]}), "r", [A, B])
    assert outcome.deleted == [B]
    assert outcome.failures == [(A, "KmsError", "x")]


def test_deletes_go_in_chunks_of_100():
    digests = [f"sha256:{i:064x}" for i in range(250)]
    ecr = FakeEcr({})
    outcome = delete_images(ecr, "r", digests)
    assert [len(call) for call in ecr.calls] == [100, 100, 50]
    assert outcome.deleted == digests
