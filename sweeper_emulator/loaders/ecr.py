"""The inventory's ECR repositories and images, put in moto's ECR as the product sees
them (moto_patches/ecr_model.py adds what moto's images lack)."""

from __future__ import annotations

from moto.ecr import models as ecr_models

from sweeper_emulator.inventory import InventoryRepository
from sweeper_emulator.moto_patches.ecr_model import EmulatedImage


def load_repositories(repositories: list[InventoryRepository], account: str, region: str) -> None:
    backend = ecr_models.ecr_backends[account][region]
    for repo in repositories:
        backend.create_repository(
            repository_name=repo.name,
            registry_id=None,
            encryption_config=None,
            image_scan_config=None,
            image_tag_mutability=None,
            tags=[{"Key": k, "Value": v} for k, v in repo.tags.items()],
        )
        images = backend.repositories[repo.name].images
        for spec in repo.images:
            images.append(EmulatedImage(account, repo.name, spec))
