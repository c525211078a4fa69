"""Run data in S3: the "claim check" that keeps every state payload small.

Layout, under runs/<execution name>/:
    config.json            the validated config, as the in-use scan read it
    in-use.json            every image in use (core.in_use.InUseSet)
    repositories.json      the plan Map's items: [{"repository": name}, ...]
    images/<repo>.json     the collector's output, when over INLINE_BYTES
    plans/<repo>.json      the evaluator's plan (every image, keep or delete, and why),
                           when it lets something go and is over INLINE_BYTES, or held
    approved.json          the plans CheckCaps let through that delete or archive
                           something, with their Merkle proofs: the sweep Map's items
    progress/<repo>.json   the deleter's journal: what it sent to ECR, what ECR confirmed
    results/<repo>.json    what the deleter did, when it failed or it is over INLINE_BYTES

Smaller per-repository data travels in the state payload instead (events.py,
INLINE_BYTES), checked against the same hashes.
    report.json, report.md the summary
and, outside runs/, reports/latest.json: the last run's report (the next run's "since
the run before").

Each role may write only its own files (template.yaml), and the bucket policy refuses
writes by anyone else. A step that hands data to a later one also returns the SHA-256 of
what it wrote; the state machine carries that hash in the payload, which nothing in S3
can change, and the reader checks it ("sealed" files, `put_*_sealed`/`get_*_sealed`).
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any, TypeVar

from botocore.exceptions import ClientError
from pydantic import BaseModel, ValidationError

from ecr_sweeper.adapters.aws import classify, client
from ecr_sweeper.errors import RunDataError, RunDataMismatch

M = TypeVar("M", bound=BaseModel)

CONFIG_SNAPSHOT = "config.json"
IN_USE = "in-use.json"
REPOSITORIES = "repositories.json"
APPROVED = "approved.json"
REPORT = "report.json"
REPORT_MARKDOWN = "report.md"
# Outside runs/: a copy of the last run's report, for the next one to say what changed
# (one read per run, not a listing of every run). Only the summary writes it.
LATEST_REPORT = "reports/latest.json"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# The run-wide files every repository's evaluator and deleter read (the config snapshot,
# the in-use set), kept by the Lambda container that read them: a warm container reads
# each once per run, not once per repository. Keyed by the object and the SHA-256 the
# workflow carried, so a cached text is exactly what a fresh read would have to be; and
# by the function, as Lambda gives each function containers of its own (the emulator and
# a local run share one process). Only the last few are kept.
_SEALED_CACHE: dict[tuple[str, str, str, str], str] = {}
_SEALED_CACHE_SIZE = 4


class RunStore:
    def __init__(self, bucket: str, prefix: str, s3: Any | None = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.rstrip("/")
        self._s3 = s3 or client("s3")

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}"

    def put_text(self, name: str, text: str, content_type: str = "application/json") -> str:
        key = self.key(name)
        try:
            self._s3.put_object(
                Bucket=self.bucket, Key=key, Body=text.encode(), ContentType=content_type
            )
        except ClientError as error:
            raise classify(error, f"writing s3://{self.bucket}/{key}") from error
        return key

    def put_model(self, name: str, model: BaseModel) -> str:
        return self.put_text(name, model.model_dump_json())

    def put_json(self, name: str, data: Any) -> str:
        return self.put_text(name, json.dumps(data, separators=(",", ":"), default=str))

    def put_json_sealed(self, name: str, data: Any) -> str:
        """Write JSON; return its SHA-256, for the state machine to carry to the reader."""
        text = json.dumps(data, separators=(",", ":"), default=str)
        self.put_text(name, text)
        return sha256(text)

    def put_model_sealed(self, name: str, model: BaseModel) -> str:
        text = model.model_dump_json()
        self.put_text(name, text)
        return sha256(text)

    def put_model_or_inline(
        self, name: str, model: BaseModel, limit: int
    ) -> tuple[str, str | None]:
        """(SHA-256, the text) when the text fits `limit` bytes, to travel in the payload
        instead of a file; (SHA-256, None) once written to S3 when it does not."""
        text = model.model_dump_json()
        if len(text.encode()) <= limit:
            return sha256(text), text
        self.put_text(name, text)
        return sha256(text), None

    def get_model_or_inline(
        self, name: str, model: type[M], expected: str, inline: str | None
    ) -> M:
        """What put_model_or_inline stored: the inline text if there is one, else the
        file, each only if its SHA-256 is the one the workflow carried."""
        if inline is None:
            return self.get_model_sealed(name, model, expected)
        if not expected or sha256(inline) != expected:
            raise RunDataMismatch(
                f"the {name} that came inline is not what its step returned (SHA-256 "
                f"{sha256(inline)}, the workflow carried {expected or 'none'}): not used"
            )
        return self._as_model(name, inline, model)

    def get_text_sealed(self, name: str, expected: str) -> str:
        """The file, if its SHA-256 is the one its writer returned; RunDataMismatch if not."""
        text = self.get_text(name)
        found = sha256(text)
        if not expected or found != expected:
            raise RunDataMismatch(
                f"s3://{self.bucket}/{self.key(name)} is not what its step wrote (SHA-256 "
                f"{found}, the workflow carried {expected or 'none'}): it was rewritten, so "
                "nothing in it is used"
            )
        return text

    def get_model_sealed(
        self, name: str, model: type[M], expected: str, *, cached: bool = False
    ) -> M:
        read = self.get_text_sealed_cached if cached else self.get_text_sealed
        return self._as_model(name, read(name, expected), model)

    def get_json_sealed(self, name: str, expected: str, *, cached: bool = False) -> Any:
        read = self.get_text_sealed_cached if cached else self.get_text_sealed
        return self._as_json(name, read(name, expected))

    def get_text_sealed_cached(self, name: str, expected: str) -> str:
        """get_text_sealed, read at most once per container for a given SHA-256."""
        function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        key = (function, self.bucket, self.key(name), expected)
        text = _SEALED_CACHE.get(key)
        if text is None:
            text = self.get_text_sealed(name, expected)
            while len(_SEALED_CACHE) >= _SEALED_CACHE_SIZE:
                del _SEALED_CACHE[next(iter(_SEALED_CACHE))]
            _SEALED_CACHE[key] = text
        return text

    def get_text(self, name: str) -> str:
        key = self.key(name)
        try:
            body = self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                raise RunDataError(f"s3://{self.bucket}/{key} does not exist") from error
            raise classify(error, f"reading s3://{self.bucket}/{key}") from error
        return body.decode()

    def get_json_if_exists(self, name: str) -> Any | None:
        """The file as JSON, or None if there is none (one GET: the role's s3:ListBucket
        makes a missing object NoSuchKey rather than AccessDenied)."""
        key = self.key(name)
        try:
            body = self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                return None
            raise classify(error, f"reading s3://{self.bucket}/{key}") from error
        return self._as_json(name, body.decode())

    def exists(self, name: str) -> bool:
        try:
            self._s3.head_object(Bucket=self.bucket, Key=self.key(name))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404", "NotFound"}:
                return False
            raise classify(error, f"checking s3://{self.bucket}/{self.key(name)}") from error
        return True

    def get_model(self, name: str, model: type[M]) -> M:
        return self._as_model(name, self.get_text(name), model)

    def get_json(self, name: str) -> Any:
        return self._as_json(name, self.get_text(name))

    def _as_model(self, name: str, text: str, model: type[M]) -> M:
        try:
            return model.model_validate_json(text)
        except ValidationError as error:
            raise RunDataError(
                f"s3://{self.bucket}/{self.key(name)} is malformed: {error}"
            ) from error

    def _as_json(self, name: str, text: str) -> Any:
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise RunDataError(
                f"s3://{self.bucket}/{self.key(name)} is not JSON: {error}"
            ) from error

    def list_names(self, sub_prefix: str) -> list[str]:
        """Names (relative to the run prefix) of every object under sub_prefix."""
        start = self.key(sub_prefix)
        names: list[str] = []
        try:
            for page in self._s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=start
            ):
                names.extend(obj["Key"][len(self.prefix) + 1 :] for obj in page.get("Contents", []))
        except ClientError as error:
            raise classify(error, f"listing s3://{self.bucket}/{start}") from error
        return names


def read_latest(s3: Any, bucket: str) -> dict[str, Any] | None:
    """reports/latest.json, or None if no run wrote one yet (or it is unreadable: it only
    feeds the report's "since the run before", never a decision)."""
    try:
        body = s3.get_object(Bucket=bucket, Key=LATEST_REPORT)["Body"].read()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404", "NotFound"}:
            return None
        raise classify(error, f"reading s3://{bucket}/{LATEST_REPORT}") from error
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def write_latest(s3: Any, bucket: str, data: dict[str, Any]) -> None:
    try:
        s3.put_object(
            Bucket=bucket,
            Key=LATEST_REPORT,
            Body=json.dumps(data, default=str).encode(),
            ContentType="application/json",
        )
    except ClientError as error:
        raise classify(error, f"writing s3://{bucket}/{LATEST_REPORT}") from error


def repository_file(folder: str, repository: str) -> str:
    """S3 name of a per-repository file. Repository names may contain '/', which S3 keeps."""
    return f"{folder}/{repository}.json"
