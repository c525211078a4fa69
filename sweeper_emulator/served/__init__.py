"""The APIs moto lacks, served by the emulator itself: one module per service, each with
a `serve(request, event_name=..., **kwargs)` that answers its requests (an AWSResponse)
or returns None for anyone else's.

`SERVED` lists them. In-process they run in botocore's `before-send` chain, just before
moto (`install()`); in the artifact mode the server in front of moto offers each request
to them before moto (artifact_mode.py). A new served API: a module here, added to
`SERVED`, and its data filled by a loader (loaders/). See docs/emulator.md.

eks_api.py is the exception: the Kubernetes API of each EKS cluster, served over HTTPS
on 127.0.0.1 by servers of its own (an EKS endpoint is not a botocore request).
"""

from __future__ import annotations

from sweeper_emulator import wire
from sweeper_emulator.served import (
    agentcore,
    app_runner,
    codebuild,
    emr_serverless,
    inspector,
    lightsail,
    sagemaker,
    tagging,
)

SERVED: tuple[wire.SendHandler, ...] = (
    app_runner.serve,
    inspector.serve,
    codebuild.serve,
    sagemaker.serve,
    emr_serverless.serve,
    agentcore.serve,
    lightsail.serve,
    tagging.serve,
)


def install() -> None:
    """Serve every API in SERVED to the botocore sessions created from now on. Idempotent."""
    for serve in SERVED:
        wire.insert_before_moto(serve)
