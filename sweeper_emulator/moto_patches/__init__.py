"""Changes to moto itself, where its behaviour differs from AWS in a way the product
depends on: ECR's image details (ecr_model), AWS's page sizes (paging), the Distributed
Map's ResultWriter (interpreter), ECS's service revisions and deployments
(ecs_revisions: moto's ECS lacks the three calls, added to its own responses so faults
and both modes see them), and the state machine definition as moto's parser
takes it (moto_asl, express). An API moto lacks entirely is not patched in here but
served (served/).
"""

from __future__ import annotations

from sweeper_emulator.moto_patches import ecr_model, ecs_revisions, interpreter, paging


def install() -> None:
    """Patch moto's ECR, paging and interpreter (idempotent, process-wide)."""
    ecr_model.install()
    paging.install()
    interpreter.install()
    ecs_revisions.install()
