"""The Kubernetes API servers of the inventory's EKS clusters: not in botocore's chain
(SERVED) but HTTPS servers of their own, as EKS endpoints are.

Each cluster of an inventory's `eks` (and of a member account's) is a cluster in
moto's EKS (ListClusters and DescribeCluster are moto's; loaders/eks.py), whose
endpoint and certificate authority are replaced by those of a small HTTPS server on
127.0.0.1, started here. The scan's real client code talks to it, over TLS verified with the CA
DescribeCluster gives, as it would to EKS; nothing of the client side is mocked, and
in the artifact mode the function's own process connects to it the same way.

What a server does:
- answers GET on the seven list paths the scan reads (pods and the workloads of
  apps/v1 and batch/v1, all namespaces) from the inventory, with `limit` and `continue`
  paging as the API server does;
- refuses (401) a request whose bearer token is not shaped as `aws eks get-token`
  makes it: `k8s-aws-v1.` + base64url without padding of a presigned
  GetCallerIdentity URL, SigV4 query, 60-second expiry, the `x-k8s-aws-id` header
  signed (the signature itself is not checked);
- answers the cluster's `faults`: 401, 403, 500, 410 Gone, a page whose JSON is cut
  short, or no answer at all (until the emulator stops).

A certificate authority (an EC key, a day's validity) is made once per emulator, and
one server certificate for 127.0.0.1 signed by it.

The scan's read timeout is a constant of the product's code
(`kubernetes_api.READ_TIMEOUT_SECONDS`); the emulator lowers it to CLIENT_READ_TIMEOUT
(in this process, and through the artifact mode's bootstrap in each function's process)
so that a cluster that never answers fails a test in a second, not in half a minute.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import re
import ssl
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sweeper_emulator import faults
from sweeper_emulator.inventory import EksCluster, EksFault, EksPod, EksWorkload

# The read timeout the scan's Kubernetes client gets under the emulator (seconds), in
# each function's process too (artifact_mode.py passes it to the bootstrap).
CLIENT_READ_TIMEOUT = 1.0
# How long a `hang` fault holds a request at most (the emulator's stop ends it sooner).
HANG_SECONDS = 60.0

LIST_PATHS: dict[str, tuple[str, str, str]] = {
    # path -> (kind of the items, kind of the list, apiVersion)
    "/api/v1/pods": ("Pod", "PodList", "v1"),
    "/apis/apps/v1/deployments": ("Deployment", "DeploymentList", "apps/v1"),
    "/apis/apps/v1/statefulsets": ("StatefulSet", "StatefulSetList", "apps/v1"),
    "/apis/apps/v1/daemonsets": ("DaemonSet", "DaemonSetList", "apps/v1"),
    "/apis/apps/v1/replicasets": ("ReplicaSet", "ReplicaSetList", "apps/v1"),
    "/apis/batch/v1/jobs": ("Job", "JobList", "batch/v1"),
    "/apis/batch/v1/cronjobs": ("CronJob", "CronJobList", "batch/v1"),
}
TOKEN_PREFIX = "k8s-aws-v1."
_SIGNATURE = re.compile(r"^[0-9a-f]{64}$")


# --- certificates ----------------------------------------------------------------------


class CertificateAuthority:
    """A CA and a server certificate for 127.0.0.1, as files for ssl (in a temporary
    folder removed by `close`)."""

    def __init__(self) -> None:
        now = dt.datetime.now(dt.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "emulated-eks-ca")])
        ca = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        server = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(
                x509.SubjectAlternativeName(
                    [
                        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                        x509.DNSName("localhost"),
                    ]
                ),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        self.ca_pem = ca.public_bytes(serialization.Encoding.PEM)
        self._folder = tempfile.TemporaryDirectory(prefix="emulated-eks-")
        folder = Path(self._folder.name)
        self.cert_file = folder / "server.pem"
        self.key_file = folder / "server-key.pem"
        self.cert_file.write_bytes(server.public_bytes(serialization.Encoding.PEM))
        self.key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def close(self) -> None:
        self._folder.cleanup()


# --- Kubernetes objects ----------------------------------------------------------------


def _containers(images: list[str], prefix: str) -> list[dict[str, Any]]:
    return [{"name": f"{prefix}{i}", "image": image} for i, image in enumerate(images)]


def _pod_spec(containers: list[str], init: list[str], ephemeral: list[str]) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": _containers(containers, "c")}
    if init:
        spec["initContainers"] = _containers(init, "init")
    if ephemeral:
        spec["ephemeralContainers"] = _containers(ephemeral, "debug")
    return spec


def _metadata(name: str, namespace: str) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "uid": f"uid-{namespace}-{name}"}


def _statuses(images: list[str], ids: list[str], prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "name": f"{prefix}{i}",
            "image": images[i] if i < len(images) else "",
            "imageID": image_id,
            "ready": True,
        }
        for i, image_id in enumerate(ids)
    ]


def pod_object(pod: EksPod) -> dict[str, Any]:
    status: dict[str, Any] = {"phase": "Running"}
    if pod.image_ids:
        status["containerStatuses"] = _statuses(pod.containers, pod.image_ids, "c")
    if pod.init_image_ids:
        status["initContainerStatuses"] = _statuses(pod.init_containers, pod.init_image_ids, "init")
    return {
        "metadata": _metadata(pod.name, pod.namespace),
        "spec": _pod_spec(pod.containers, pod.init_containers, pod.ephemeral_containers),
        "status": status,
    }


def workload_object(workload: EksWorkload) -> dict[str, Any]:
    template = {
        "metadata": {"labels": {"app": workload.name}},
        "spec": _pod_spec(workload.containers, workload.init_containers, []),
    }
    if workload.kind == "CronJob":
        spec: dict[str, Any] = {
            "schedule": "0 3 * * *",
            "jobTemplate": {"spec": {"template": template}},
        }
    elif workload.kind == "Job":
        spec = {"template": template}
    else:
        spec = {"replicas": workload.replicas, "template": template}
    return {"metadata": _metadata(workload.name, workload.namespace), "spec": spec}


def cluster_objects(cluster: EksCluster) -> dict[str, list[dict[str, Any]]]:
    """The objects of each list path, in the order the inventory gives them."""
    objects: dict[str, list[dict[str, Any]]] = {path: [] for path in LIST_PATHS}
    objects["/api/v1/pods"] = [pod_object(p) for p in cluster.pods]
    kinds = {kind: path for path, (kind, _, _) in LIST_PATHS.items()}
    for workload in cluster.workloads:
        objects[kinds[workload.kind]].append(workload_object(workload))
    return objects


# --- the token's shape -----------------------------------------------------------------


def token_problem(authorization: str) -> str | None:
    """Why `authorization` is not a bearer token made as `aws eks get-token` makes it;
    None if it is."""
    scheme, _, token = authorization.partition(" ")
    if scheme != "Bearer" or not token.startswith(TOKEN_PREFIX):
        return f"not a bearer token starting {TOKEN_PREFIX}"
    encoded = token.removeprefix(TOKEN_PREFIX)
    if "=" in encoded or not re.fullmatch(r"[A-Za-z0-9_-]+", encoded):
        return "not base64url without padding"
    try:
        url = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return "not base64url"
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    expected = {
        "Action": "GetCallerIdentity",
        "Version": "2011-06-15",
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Expires": "60",
    }
    if parts.scheme not in ("https", "http") or not parts.netloc:
        return "not a URL"
    for key, value in expected.items():
        if query.get(key) != value:
            return f"{key} is {query.get(key)!r}, not {value!r}"
    signed = query.get("X-Amz-SignedHeaders", "").split(";")
    if "host" not in signed or "x-k8s-aws-id" not in signed:
        return "host and x-k8s-aws-id are not among the signed headers"
    if "/sts/aws4_request" not in query.get("X-Amz-Credential", ""):
        return "not signed for STS"
    if not _SIGNATURE.match(query.get("X-Amz-Signature", "")):
        return "no SigV4 signature"
    return None


# --- the server ------------------------------------------------------------------------


def _continue_token(start: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"start": start}).encode()).decode()


def _start(token: str) -> int | None:
    try:
        start = json.loads(base64.urlsafe_b64decode(token.encode()))["start"]
    except (ValueError, KeyError, TypeError):
        return None
    return start if isinstance(start, int) and start >= 0 else None


class ClusterServer:
    """One cluster's API server, in a thread of its own."""

    def __init__(self, cluster: EksCluster, authority: CertificateAuthority) -> None:
        self.cluster = cluster
        self.objects = cluster_objects(cluster)
        self.stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.answer(self)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self._http.socket = authority.server_context().wrap_socket(
            self._http.socket, server_side=True
        )
        self.endpoint = f"https://127.0.0.1:{self._http.server_address[1]}"
        self._thread = threading.Thread(
            target=self._http.serve_forever, name=f"eks-{cluster.name}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self._http.shutdown()
        self._http.server_close()

    def _fault(self, path: str, page: int) -> EksFault | None:
        for fault in self.cluster.faults:
            if (fault.path is None or fault.path == path) and page >= fault.page:
                return fault
        return None

    def answer(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        faults.CALLS.record(f"kubernetes:GET {parts.path}", function="kubernetes")
        problem = token_problem(request.headers.get("Authorization", ""))
        if problem is not None:
            self._status(request, 401, "Unauthorized", f"invalid bearer token: {problem}")
            return
        if parts.path not in LIST_PATHS:
            self._status(request, 404, "NotFound", f"the server has no {parts.path}")
            return
        start = 0
        if query.get("continue"):
            found = _start(query["continue"])
            if found is None:
                self._status(request, 400, "BadRequest", "continue key is not valid")
                return
            start = found
        limit = int(query["limit"]) if query.get("limit", "").isdigit() else 0
        items = self.objects[parts.path]
        size = limit or max(len(items), 1)
        fault = self._fault(parts.path, start // size)
        if fault is not None and self._faulty(request, fault):
            return
        page = items[start : start + size]
        kind, list_kind, api_version = LIST_PATHS[parts.path]
        metadata: dict[str, Any] = {"resourceVersion": "1"}
        if start + size < len(items):
            metadata["continue"] = _continue_token(start + size)
            metadata["remainingItemCount"] = len(items) - start - size
        body = {
            "kind": list_kind,
            "apiVersion": api_version,
            "metadata": metadata,
            "items": [{"kind": kind, "apiVersion": api_version, **item} for item in page],
        }
        self._send(request, 200, json.dumps(body).encode())

    def _faulty(self, request: BaseHTTPRequestHandler, fault: EksFault) -> bool:
        """Answer with the fault; False if it lets the request through."""
        if fault.answer == "hang":
            self.stopping.wait(HANG_SECONDS)
            return True
        if fault.answer == "broken_page":
            self._send(request, 200, b'{"kind": "PodList", "metadata": {}, "items": [{"meta')
            return True
        status, reason, message = {
            "unauthorized": (401, "Unauthorized", "Unauthorized"),
            "forbidden": (
                403,
                "Forbidden",
                f'{request.path.split("?")[0]} is forbidden: User "arn:aws:sts::role/scan" '
                "cannot list resource at the cluster scope",
            ),
            "server_error": (500, "InternalError", "etcdserver: request timed out"),
            "gone": (
                410,
                "Expired",
                "The provided continue parameter is too old to display a consistent list result.",
            ),
        }[fault.answer]
        self._status(request, status, reason, message)
        return True

    def _status(
        self, request: BaseHTTPRequestHandler, code: int, reason: str, message: str
    ) -> None:
        body = {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "message": message,
            "reason": reason,
            "code": code,
        }
        self._send(request, code, json.dumps(body).encode())

    def _send(self, request: BaseHTTPRequestHandler, code: int, body: bytes) -> None:
        request.send_response(code)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)


_lock = threading.Lock()
_authority: CertificateAuthority | None = None
_servers: list[ClusterServer] = []


def start_server(cluster: EksCluster) -> ClusterServer:
    """A server for `cluster`, running until `stop_servers` (the CA is made with the
    first one)."""
    global _authority
    with _lock:
        if _authority is None:
            _authority = CertificateAuthority()
        server = ClusterServer(cluster, _authority)
        _servers.append(server)
        return server


def authority_pem() -> bytes:
    """The CA every server's certificate is signed by (DescribeCluster's)."""
    assert _authority is not None, "no cluster server was started"
    return _authority.ca_pem


def stop_servers() -> None:
    """Stop every cluster's server, and forget the CA (the emulator's exit)."""
    global _authority
    with _lock:
        for server in _servers:
            server.stop()
        _servers.clear()
        if _authority is not None:
            _authority.close()
            _authority = None


def lower_client_timeout() -> None:
    """The scan's Kubernetes read timeout, lowered in this process (the functions'
    handlers run here in the in-process mode)."""
    from ecr_sweeper.adapters import kubernetes_api

    kubernetes_api.READ_TIMEOUT_SECONDS = CLIENT_READ_TIMEOUT
