"""IAM roles the loaded resources name (moto checks that a role exists, not what it
allows)."""

from __future__ import annotations

import boto3


def role_arn(session: boto3.Session, name: str) -> str:
    """The ARN of the role `name`, created on first use (one per account, whichever
    region comes first)."""
    iam = session.client("iam")
    try:
        return str(iam.get_role(RoleName=name)["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"]["Arn"])
