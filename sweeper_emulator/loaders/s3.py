"""The inventory's S3 objects (e.g. in-use lists another tool wrote), with their
LastModified."""

from __future__ import annotations

import json

import boto3

from sweeper_emulator.inventory import S3Object


def load_objects(objects: list[S3Object], account: str, region: str) -> None:
    """Put the objects in place, with their LastModified."""
    from moto.s3.models import s3_backends

    s3 = boto3.client("s3", region_name=region)
    backend = s3_backends[account]["global"]
    for obj in objects:
        if obj.bucket not in backend.buckets:
            s3.create_bucket(
                Bucket=obj.bucket,
                CreateBucketConfiguration={"LocationConstraint": region},
            )
        body = obj.body if isinstance(obj.body, str) else json.dumps(obj.body)
        s3.put_object(Bucket=obj.bucket, Key=obj.key, Body=body.encode())
        if obj.last_modified is not None:
            backend.buckets[obj.bucket].keys[obj.key].last_modified = obj.last_modified
