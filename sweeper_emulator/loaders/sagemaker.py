"""The inventory's SageMaker models, jobs and Studio image versions (`sagemaker`), put in
the emulator's own SageMaker (served/sagemaker.py): moto's has no Studio images."""

from __future__ import annotations

from sweeper_emulator.inventory import SageMaker
from sweeper_emulator.loaders.offered import require_offered
from sweeper_emulator.served.sagemaker import SERVICE, sagemaker_backends


def load_sagemaker(section: SageMaker, account: str, region: str) -> None:
    if section != SageMaker():
        require_offered("sagemaker", SERVICE, region)
    sagemaker_backends[account][region].load(section)
