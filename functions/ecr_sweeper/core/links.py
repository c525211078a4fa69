"""Console links an operator can click, right for every AWS partition. Pure: no I/O.

Which partition a resource is in comes from its ARN (`arn:PARTITION:...`), or, for a
bare region, from botocore's partition data (`partitions.json`, read by the caller:
`boto3.Session.get_partition_for_region`). botocore knows each partition's API domain
(`dnsSuffix`: amazonaws.com, amazonaws.com.cn, ...) but not its console's host, and the
console host cannot be derived from it: GovCloud's API domain is amazonaws.com like the
commercial one, its console is console.amazonaws-us-gov.com. So the hosts are listed
here, for the partitions whose console AWS documents publicly; for the others (the
isolated partitions: aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, and aws-eusc) there is
no link, and the reader gets the ARN or the `s3://` URI, never a link that goes
nowhere. `tests/unit/test_links.py` checks that every partition botocore lists is
named here, one way or the other.
"""

from __future__ import annotations

from urllib.parse import quote

# Partition -> the console's host ("{region}" is replaced by the resource's region).
CONSOLE_HOSTS = {
    "aws": "{region}.console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}
# Partitions whose console host AWS does not publish: no link, the ARN instead.
NO_PUBLIC_CONSOLE = frozenset({"aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"})


def arn_parts(arn: str) -> tuple[str, str]:
    """(partition, region) of an ARN, or ("", "") if `arn` is not one."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return "", ""
    return parts[1], parts[3]


def console_base(partition: str, region: str) -> str:
    """`https://HOST` of the console for `partition` and `region`, or "" if unknown."""
    host = CONSOLE_HOSTS.get(partition)
    if not host or not region:
        return ""
    return "https://" + host.format(region=region)


def states_link(arn: str) -> str:
    """The Step Functions console page of an execution, a child execution or a Map Run."""
    partition, region = arn_parts(arn)
    base = console_base(partition, region)
    if not base:
        return ""
    page = "map-run" if ":mapRun:" in arn else "executions"
    return f"{base}/states/home?region={region}#/v2/{page}/details/{arn}"


def s3_object_link(partition: str, region: str, bucket: str, key: str) -> str:
    """The S3 console page of one object (its properties, and a Download button)."""
    base = console_base(partition, region)
    if not base or not bucket:
        return ""
    return f"{base}/s3/object/{bucket}?region={region}&prefix={quote(key, safe='/')}"


def s3_with_link(partition: str, region: str, bucket: str, key: str) -> str:
    """`s3://bucket/key`, and its console page beside it when the partition has one."""
    uri = f"s3://{bucket}/{key}"
    link = s3_object_link(partition, region, bucket, key)
    return f"{uri} ({link})" if link else uri


def log_events_link(partition: str, region: str, log_group: str, search: str = "") -> str:
    """The CloudWatch Logs console page of a log group's events, filtered by `search`
    (a Lambda request id finds the invocation and its stack trace)."""
    base = console_base(partition, region)
    if not base or not log_group:
        return ""

    # The console's fragment escapes twice: "/" is "$252F", a quoted search "$2522".
    def escape(text: str) -> str:
        return quote(quote(text, safe=""), safe="").replace("%", "$")

    fragment = f"logsV2:log-groups/log-group/{escape(log_group)}/log-events"
    if search:
        fragment += "$3FfilterPattern$3D" + escape(f'"{search}"')
    return f"{base}/cloudwatch/home?region={region}#{fragment}"
