"""Writes examples/blog-account.json: the example account `make demo` sweeps.

Modelled on the setup of the ecrm blog post: two repositories, example-web
(run by ECS) and example-app (run by Lambda), 55 images each, of which 5 are
expired and unused. Run it again after changing it; the JSON is committed.
"""

import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path

NOW = datetime(2026, 11, 27, 0, 0)
ACCOUNT, REGION = "123456789012", "ap-northeast-1"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
SIZE = 16_800_000  # 55 images = 924 MB, as in the blog's table


def digest(repository: str, index: int) -> str:
    return "sha256:" + hashlib.sha256(f"{repository}/{index}".encode()).hexdigest()


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def repository(name: str, expired_tags: list[str | None]) -> dict:
    images = []
    for i in range(45):  # pushed in the last 23 days: not expired
        tags = [f"v2.{44 - i}"] + (["latest"] if i == 0 else [])
        images.append(
            {
                "digest": digest(name, i),
                "tags": tags,
                "pushed_at": stamp(NOW - timedelta(hours=1 + 12 * i)),
                "size_bytes": SIZE,
            }
        )
    for j, tag in enumerate(expired_tags):  # pushed 31 days ago and earlier: expired
        images.append(
            {
                "digest": digest(name, 45 + j),
                "tags": [tag] if tag else [],
                "pushed_at": stamp(NOW - timedelta(days=31 + 7 * j)),
                "size_bytes": SIZE,
            }
        )
    return {"name": name, "tags": {"team": "example"}, "images": images}


web = repository(
    "example-web", ["v1.9", "v1.8", None, "v1.7", "v1.6", "v1.5", None, "v1.4", "v1.3", None]
)
app = repository(
    "example-app", ["v1.9", None, "v1.8", "v1.7", "v1.6", "v1.5", "v1.4", None, "v1.3", None]
)
# A repository no rule matches: never touched, however old.
other = {
    "name": "platform/base",
    "images": [
        {
            "digest": digest("platform/base", i),
            "tags": [f"2024.{i}"],
            "pushed_at": stamp(NOW - timedelta(days=700 + i)),
            "size_bytes": 50_000_000,
        }
        for i in range(3)
    ],
}

web_uri, app_uri = f"{REGISTRY}/example-web", f"{REGISTRY}/example-app"
inventory = {
    "account_id": ACCOUNT,
    "region": REGION,
    "now": stamp(NOW),
    "repositories": [web, app, other],
    "ecs": {
        "clusters": [
            {
                "name": "example",
                "services": [
                    {
                        "name": "example-web",
                        "deployments": [
                            {"status": "PRIMARY", "task_definition": "example-web:12"},
                            {"status": "ACTIVE", "task_definition": "example-web:11"},
                        ],
                    }
                ],
                "tasks": [
                    # Started from a tag that has moved since: only the digest names it.
                    {
                        "task_definition": "example-web:12",
                        "desired_status": "RUNNING",
                        "containers": [
                            {"image": f"{web_uri}:v2.44", "image_digest": digest("example-web", 47)}
                        ],
                    },
                    {
                        "task_definition": "example-web:11",
                        "desired_status": "STOPPED",
                        "containers": [
                            {"image": f"{web_uri}:v2.43", "image_digest": digest("example-web", 1)}
                        ],
                    },
                ],
            }
        ],
        "task_definitions": [
            {"family": "example-web", "revision": 12, "images": [f"{web_uri}:v2.44"]},
            {"family": "example-web", "revision": 11, "images": [f"{web_uri}:v2.43"]},
            {"family": "example-web", "revision": 10, "images": [f"{web_uri}:v1.9"]},
            {"family": "example-web", "revision": 9, "images": [f"{web_uri}:v1.8"]},
            {"family": "example-web", "revision": 8, "images": [f"{web_uri}:v1.7"]},
        ],
    },
    "lambda": {
        "functions": [
            {
                "name": "example-app-api",
                "versions": [
                    {
                        "version": "$LATEST",
                        "image_uri": f"{app_uri}:latest",
                        "resolved_image_uri": f"{app_uri}@{digest('example-app', 0)}",
                    },
                    {
                        "version": "1",
                        "image_uri": f"{app_uri}:v1.3",
                        "resolved_image_uri": f"{app_uri}@{digest('example-app', 53)}",
                    },
                    {
                        "version": "2",
                        "image_uri": f"{app_uri}:v1.4",
                        "resolved_image_uri": f"{app_uri}@{digest('example-app', 51)}",
                    },
                    # Deployed as v2.40; the tag has moved since, the digest it runs has not.
                    {
                        "version": "3",
                        "image_uri": f"{app_uri}:v2.40",
                        "resolved_image_uri": f"{app_uri}@{digest('example-app', 46)}",
                    },
                    {
                        "version": "4",
                        "image_uri": f"{app_uri}:v2.41",
                        "resolved_image_uri": f"{app_uri}@{digest('example-app', 3)}",
                    },
                    {
                        "version": "5",
                        "image_uri": f"{app_uri}:v1.9",
                        "resolved_image_uri": f"{app_uri}@{digest('example-app', 45)}",
                    },
                    {
                        "version": "6",
                        "image_uri": f"{app_uri}:v2.44",
                        "resolved_image_uri": f"{app_uri}@{digest('example-app', 0)}",
                    },
                ],
                "aliases": [{"name": "live", "version": "6", "additional_versions": {"5": 0.1}}],
            }
        ]
    },
    "faults": [],
}

if __name__ == "__main__":
    out = Path(__file__).with_name("blog-account.json")
    out.write_text(json.dumps(inventory, indent=1) + "\n")
    print(f"wrote {out}")
