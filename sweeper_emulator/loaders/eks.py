"""The inventory's EKS clusters (`eks`): clusters in moto's EKS whose endpoint and
certificate authority are those of the emulator's server for each (served/eks_api.py)."""

from __future__ import annotations

import base64

import boto3
from moto.eks.models import eks_backends

from sweeper_emulator.inventory import Eks
from sweeper_emulator.served.eks_api import authority_pem, start_server

CLUSTER_ROLE = "emulated-eks-cluster"


def load_eks(section: Eks, account: str, region: str) -> None:
    """Each cluster created through moto's API (in moto's current account), then its
    endpoint and CA set in moto's model: CreateCluster cannot set them."""
    if not section.clusters:
        return
    session = boto3.Session(region_name=region)
    iam = session.client("iam")
    name = f"{CLUSTER_ROLE}-{region}"
    try:
        role = iam.get_role(RoleName=name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    eks = session.client("eks")
    for cluster in section.clusters:
        eks.create_cluster(
            name=cluster.name, roleArn=role, resourcesVpcConfig={"subnetIds": ["subnet-emulated"]}
        )
        server = start_server(cluster)
        model = eks_backends[account][region].clusters[cluster.name]
        model.endpoint = server.endpoint
        model.certificate_authority = {"data": base64.b64encode(authority_pem()).decode()}
