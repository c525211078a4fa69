"""A read-only Kubernetes API client for one Amazon EKS cluster: list requests only.

No Kubernetes client library: it would add megabytes to every Lambda package for a few
GET requests. urllib3 (which botocore ships with) sends them, over HTTPS verified with
the cluster's certificate authority, with a bearer token made as `aws eks get-token`
makes it (`bearer_token`).

Lists are read page by page (`limit` and `continue`, PAGE_ITEMS objects a page), and
each page is dropped before the next is asked for: the memory a cluster needs is one
page, whatever its size. A page larger than MAX_PAGE_BYTES is refused, not read.

Every failure raises, naming the cluster and what went wrong: nothing is deleted
while a cluster's workloads are not fully known.
- refused (401, 403), a list that cannot be finished (410 Gone: the `continue` token
  expired), a page that is not a Kubernetes list (bad JSON, no `items`, cut short),
  another 4xx answer, a certificate that is not the cluster's: SourceReadError (the
  state machine does not retry it);
- no answer in time, no connection, 429 or 5xx: TransientAwsError (the state machine
  retries the scan, as after botocore's own retries of an AWS call).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import urllib3

from ecr_sweeper.errors import SourceReadError, TransientAwsError

TOKEN_PREFIX = "k8s-aws-v1."
# The header that binds a token to one cluster: signed, so the token is good for it only.
CLUSTER_ID_HEADER = "x-k8s-aws-id"
TOKEN_SECONDS = 60  # what `aws eks get-token` asks for
PAGE_ITEMS = 200
MAX_PAGE_BYTES = 16 * 1024 * 1024
CONNECT_TIMEOUT_SECONDS = 10.0
# A list page of PAGE_ITEMS objects comes back well within this. A module constant, not
# a setting: the emulator lowers it to test a cluster that never answers.
READ_TIMEOUT_SECONDS = 30.0
# How much of an error answer is quoted in the error.
QUOTED_CHARS = 300

_PRESIGN_HANDLER_ID = "ecr-sweeper-k8s-aws-id"


def _take_cluster_id(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    # GetCallerIdentity takes no parameters: move the header's value out of the way of
    # botocore's parameter validation, into the request context.
    if CLUSTER_ID_HEADER in params:
        context[CLUSTER_ID_HEADER] = params.pop(CLUSTER_ID_HEADER)


def _add_cluster_id(request: Any, **_: Any) -> None:
    # before-sign passes no context argument: the request carries it.
    context = getattr(request, "context", None) or {}
    if CLUSTER_ID_HEADER in context:
        request.headers[CLUSTER_ID_HEADER] = context[CLUSTER_ID_HEADER]


def bearer_token(sts: Any, cluster: str) -> str:
    """A token for `cluster`, as `aws eks get-token` makes it: a GetCallerIdentity URL
    presigned by botocore (SigV4, valid TOKEN_SECONDS) with the `x-k8s-aws-id` header
    signed in, base64url-encoded without padding behind `k8s-aws-v1.`. EKS calls the URL
    to learn who is asking; making it calls nothing, and GetCallerIdentity needs no
    permission. Handlers registered with a unique id: registering again is a no-op."""
    events = sts.meta.events
    events.register(
        "provide-client-params.sts.GetCallerIdentity",
        _take_cluster_id,
        unique_id=f"{_PRESIGN_HANDLER_ID}-params",
    )
    events.register(
        "before-sign.sts.GetCallerIdentity",
        _add_cluster_id,
        unique_id=f"{_PRESIGN_HANDLER_ID}-sign",
    )
    url = sts.generate_presigned_url(
        "get_caller_identity",
        Params={CLUSTER_ID_HEADER: cluster},
        ExpiresIn=TOKEN_SECONDS,
        HttpMethod="GET",
    )
    encoded = base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")
    return TOKEN_PREFIX + encoded


class KubernetesApi:
    """GET requests to one cluster's API server. `token` is called for each request (a
    token is valid for a minute; a large cluster takes longer to list)."""

    def __init__(
        self, cluster: str, endpoint: str, ca_pem: str, token: Callable[[], str], where: str
    ) -> None:
        self.cluster = cluster
        self.endpoint = endpoint.rstrip("/")
        self._token = token
        self._where = where  # how errors name the cluster, e.g. eks@<account>/<region>/<name>
        self._pool = urllib3.PoolManager(
            cert_reqs="CERT_REQUIRED",
            ca_cert_data=ca_pem,
            retries=False,
            timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT_SECONDS, read=READ_TIMEOUT_SECONDS),
        )
        self.requests = 0

    def close(self) -> None:
        self._pool.clear()

    def list_items(self, path: str) -> Iterator[dict[str, Any]]:
        """Every object of the list at `path` (e.g. /api/v1/pods: all namespaces), one
        page at a time."""
        fields: dict[str, str] = {"limit": str(PAGE_ITEMS)}
        while True:
            page = self._get_page(path, fields)
            items = page.get("items")
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise self._broken(path, "the answer is not a Kubernetes list (no items)")
            yield from items
            metadata = page.get("metadata") or {}
            token = metadata.get("continue") if isinstance(metadata, dict) else None
            if not token:
                return
            if not isinstance(token, str):
                raise self._broken(path, "its continue token is not a string")
            fields = {"limit": str(PAGE_ITEMS), "continue": token}

    def _broken(self, path: str, what: str) -> SourceReadError:
        return SourceReadError(
            f"{self._where}: GET {path}: {what}; nothing is deleted while the cluster's "
            "workloads are not fully read"
        )

    def _get_page(self, path: str, fields: dict[str, str]) -> dict[str, Any]:
        self.requests += 1
        try:
            response = self._pool.request(
                "GET",
                self.endpoint + path,
                fields=fields,
                headers={"Authorization": f"Bearer {self._token()}", "Accept": "application/json"},
                preload_content=False,
            )
        except urllib3.exceptions.SSLError as error:
            raise SourceReadError(
                f"{self._where}: {self.endpoint} did not prove to be the cluster (its "
                f"certificate is not signed by the cluster's certificate authority): {error}"
            ) from error
        except urllib3.exceptions.TimeoutError as error:
            raise TransientAwsError(
                f"{self._where}: no answer from {self.endpoint} within "
                f"{READ_TIMEOUT_SECONDS:g}s (GET {path}); a private endpoint needs the scan "
                "function in the cluster's VPC (docs/eks.md)"
            ) from error
        except urllib3.exceptions.HTTPError as error:
            raise TransientAwsError(
                f"{self._where}: cannot reach {self.endpoint} (GET {path}): {error}; a "
                "private endpoint needs the scan function in the cluster's VPC (docs/eks.md)"
            ) from error
        try:
            body = response.read(MAX_PAGE_BYTES + 1)
        except urllib3.exceptions.TimeoutError as error:
            raise TransientAwsError(
                f"{self._where}: the answer to GET {path} stopped coming "
                f"(nothing for {READ_TIMEOUT_SECONDS:g}s)"
            ) from error
        except urllib3.exceptions.HTTPError as error:
            raise self._broken(path, f"the answer was cut short ({error})") from error
        finally:
            response.release_conn()
        if response.status != 200:
            raise self._refused(path, response.status, body)
        if len(body) > MAX_PAGE_BYTES:
            raise self._broken(
                path,
                f"a page of {PAGE_ITEMS} objects is larger than {MAX_PAGE_BYTES} bytes, "
                "the most the scan reads at once",
            )
        try:
            page = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise self._broken(path, f"the answer is not JSON ({error})") from error
        if not isinstance(page, dict):
            raise self._broken(path, "the answer is not a Kubernetes list")
        return page

    def _refused(self, path: str, status: int, body: bytes) -> Exception:
        said = _status_message(body)
        if status == 401:
            return SourceReadError(
                f"{self._where}: the API server refused the scan's token (401 Unauthorized"
                f"{said}): is the cluster's authentication mode API or API_AND_CONFIG_MAP "
                "and does an access entry name the scan role (docs/eks.md)?"
            )
        if status == 403:
            return SourceReadError(
                f"{self._where}: the scan role may not list {path} (403 Forbidden{said}): "
                "grant it get and list on pods and the workloads (docs/eks.md)"
            )
        if status == 410:
            return SourceReadError(
                f"{self._where}: GET {path}: the list changed too much while it was read "
                f"(410 Gone: its continue token expired{said}); the next run reads it again"
            )
        if status == 429 or status >= 500:
            return TransientAwsError(f"{self._where}: GET {path}: HTTP {status}{said}")
        return SourceReadError(f"{self._where}: GET {path}: HTTP {status}{said}")


def _status_message(body: bytes) -> str:
    """`: <message>` from a Kubernetes Status answer, or from the text, short."""
    try:
        message = json.loads(body).get("message")
    except (ValueError, AttributeError):
        message = body.decode("utf-8", "replace")
    text = " ".join(str(message or "").split())[:QUOTED_CHARS]
    return f": {text}" if text else ""
