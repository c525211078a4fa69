"""Deploy template.yaml onto moto and run every Lambda invocation.

moto's Lambda would run code in Docker; `install()` replaces that with a call of
the real handler, with the function's environment from the template, against the
same mocked account: in this process (fast), or in artifact mode from the `sam build`
output in a process of its own (see artifact_mode.py). `deploy()` reads the template
of the source tree, or the one `sam build` wrote next to the artifacts.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import sys
import threading
import time
import traceback
import tracemalloc
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from moto.awslambda.models import LambdaFunction

from sweeper_emulator import faults, stack_record
from sweeper_emulator.moto_patches import express, moto_asl
from sweeper_emulator.template import (
    TemplateError,
    load_template,
    parameter_values,
    stack_resolver,
    substitute_definition,
)

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_ROLE_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


@dataclass
class DeployedFunction:
    logical_id: str
    name: str
    arn: str
    handler: str
    code_dir: Path
    environment: dict[str, str]
    memory_mb: int
    timeout_s: int
    runtime: str = "python3.13"
    invocations: int = 0
    peak_memory_bytes: int = 0
    seconds: float = 0.0  # time spent in the handler, all invocations


@dataclass
class Stack:
    """The resources of one emulated deployment of template.yaml."""

    name: str
    account_id: str
    region: str
    parameters: dict[str, str]
    bucket: str = ""
    topic_arn: str = ""
    state_machine_arn: str = ""
    functions: dict[str, DeployedFunction] = field(default_factory=dict)  # by function name
    definition: str = ""
    child_execution_type: str = "STANDARD"  # the Distributed Map's children
    outputs: dict[str, str] = field(default_factory=dict)  # the template's Outputs, resolved


_REGISTRY: dict[str, DeployedFunction] = {}
_LOCK = threading.RLock()  # handlers run one at a time: they share os.environ
_ENV_OVERRIDES: dict[str, str] = {}
_MEASURE: dict[str, Any] = {"memory": False, "only": None}
# Artifact mode: the FunctionProcesses that run each invocation (None: in this process).
_PROCESSES: list[Any] = [None]
# The CloudWatch EMF metrics the handlers printed: {"function", "metrics", "dimensions"}.
METRICS: list[dict[str, Any]] = []


class _ThreadStdout:
    """sys.stdout while a handler runs: what the handler's thread prints (its EMF
    metrics) goes to `captured`; what any other thread prints goes where it went before.
    contextlib.redirect_stdout would take the whole process's output, so a command
    printing while the workflow runs (`ecr-sweeper run`) would lose lines to it."""

    def __init__(self, through: Any, captured: io.StringIO) -> None:
        self._through = through
        self._captured = captured
        self._thread = threading.get_ident()

    def write(self, text: str) -> int:
        if threading.get_ident() == self._thread:
            return self._captured.write(text)
        return int(self._through.write(text) or 0)

    def __getattr__(self, name: str) -> Any:  # flush, encoding, isatty, ...: the stream's
        return getattr(self._through, name)


@contextlib.contextmanager
def _own_stdout(captured: io.StringIO) -> Iterator[None]:
    through = sys.stdout
    sys.stdout = _ThreadStdout(through, captured)  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout = through


def _collect_emf(function: str, printed: str) -> None:
    """Keep the EMF documents a handler printed (as Lambda's log agent would); pass the
    rest of its output through."""
    for line in printed.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            document = None
        if not isinstance(document, dict) or "_aws" not in document:
            if line.strip():
                sys.stdout.write(line + "\n")
            continue
        names = [
            m["Name"]
            for directive in document["_aws"].get("CloudWatchMetrics", [])
            for m in directive.get("Metrics", [])
        ]
        dimension_names = {
            d
            for directive in document["_aws"].get("CloudWatchMetrics", [])
            for group in directive.get("Dimensions", [])
            for d in group
        }
        METRICS.append(
            {
                "function": function,
                "namespace": document["_aws"]["CloudWatchMetrics"][0].get("Namespace"),
                "metrics": {name: document.get(name) for name in names},
                "dimensions": {d: document.get(d) for d in sorted(dimension_names)},
            }
        )


# Called with the function just before each invocation (the emulator's `changes`).
BEFORE_INVOKE: list[Any] = []  # tracemalloc slows Python down: only the benchmark turns it on


class _Context:
    """The parts of the Lambda context object the handlers and Powertools read."""

    def __init__(self, fn: DeployedFunction) -> None:
        self.function_name = fn.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = fn.arn
        self.memory_limit_in_mb = fn.memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{fn.name}"
        self.log_stream_name = "emulator"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


_SESSIONS: dict[str, boto3.Session] = {}


def _handler_session(region: str) -> boto3.Session:
    """The functions' own credentials, as Lambda gives each function its role's: how the
    emulator tells the product's API calls from its own. One session, reused, as a warm
    Lambda container would."""
    if region not in _SESSIONS:
        _SESSIONS[region] = boto3.Session(
            aws_access_key_id=faults.HANDLER_ACCESS_KEY,
            aws_secret_access_key="emulated",
            aws_session_token="emulated",
            region_name=region,
        )
    return _SESSIONS[region]


def _error_payload(error: dict[str, Any]) -> tuple[str, bool, str]:
    return json.dumps(error), True, ""


def _invoke(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    """moto's Lambda invocation, replaced: the deployed function's handler runs, in this
    process or (artifact mode) from the built artifact in a process of its own."""
    fn = _REGISTRY.get(self.function_name)
    if fn is None:
        return _error_payload(
            {
                "errorType": "ResourceNotFound",
                "errorMessage": f"{self.function_name} is not an emulated function",
            }
        )
    payload = json.loads(event) if isinstance(event, str | bytes) else (event or {})
    for hook in BEFORE_INVOKE:
        hook(fn)
    with _LOCK:
        started = time.perf_counter()
        try:
            processes = _PROCESSES[0]
            if processes is None:
                return _in_process(fn, self.region, payload)
            answer = processes.invoke(fn, self.region, payload)
            _collect_emf(fn.logical_id, answer["printed"])
            fn.peak_memory_bytes = max(fn.peak_memory_bytes, answer["peak_memory_bytes"])
            if "error" in answer:
                return _error_payload(answer["error"])
            return json.dumps(answer["result"]), False, ""
        finally:
            fn.invocations += 1
            fn.seconds += time.perf_counter() - started


def _in_process(fn: DeployedFunction, region: str, payload: Any) -> tuple[str, bool, str]:
    module_name, function_name = fn.handler.rsplit(".", 1)
    saved = dict(os.environ)
    os.environ.update(fn.environment)
    os.environ.update(_ENV_OVERRIDES)
    os.environ.update(
        {
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_LAMBDA_FUNCTION_NAME": fn.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_mb),
        }
    )
    saved_session = boto3.DEFAULT_SESSION
    faults.CURRENT["function"] = fn.logical_id
    boto3.DEFAULT_SESSION = _handler_session(region)
    traced = _MEASURE["memory"] and (_MEASURE["only"] is None or fn.logical_id in _MEASURE["only"])
    if traced:
        tracemalloc.start()
    try:
        if str(fn.code_dir) not in sys.path:
            sys.path.insert(0, str(fn.code_dir))
        handler = getattr(importlib.import_module(module_name), function_name)
        printed = io.StringIO()
        try:
            with _own_stdout(printed):
                result = handler(payload, _Context(fn))
        finally:
            _collect_emf(fn.logical_id, printed.getvalue())
        return json.dumps(result), False, ""
    except faults.EmulatedCrash as crash:
        return _error_payload({"errorType": str(crash), "errorMessage": "emulated crash"})
    except Exception as error:  # the Lambda runtime turns any exception into this payload
        return _error_payload(
            {
                "errorType": type(error).__name__,
                "errorMessage": str(error),
                "stackTrace": traceback.format_exception(error)[-5:],
            }
        )
    finally:
        if traced:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            fn.peak_memory_bytes = max(fn.peak_memory_bytes, peak)
        boto3.DEFAULT_SESSION = saved_session
        faults.CURRENT["function"] = None
        os.environ.clear()
        os.environ.update(saved)


def install(
    env_overrides: dict[str, str] | None = None,
    measure_memory: bool = False,
    processes: Any = None,
) -> None:
    """Run every invocation in this process, or, given `processes` (artifact mode's
    FunctionProcesses), each in the function's own process."""
    LambdaFunction._invoke_lambda = _invoke
    _PROCESSES[0] = processes
    # A new emulated deployment starts with new containers: new sessions, new clients.
    _SESSIONS.clear()
    _MEASURE["memory"] = measure_memory
    _MEASURE["only"] = None
    _ENV_OVERRIDES.clear()
    _ENV_OVERRIDES.update(env_overrides or {})


def measure_memory_only(logical_ids: set[str] | None) -> None:
    """With measure_memory on, trace only these functions (by logical ID; None: all).
    The benchmark's largest run traces the functions whose work grows with its size."""
    _MEASURE["only"] = None if logical_ids is None else set(logical_ids)


def deploy(
    account_id: str,
    region: str,
    *,
    root: Path = ROOT,
    stack_name: str = "ecr-sweeper",
    parameters: dict[str, str] | None = None,
    config_file: Path | None = None,
) -> Stack:
    """Create the template's bucket, topic, functions and state machine in the mocked account."""
    template = load_template(root / "template.yaml")
    values = parameter_values(template, parameters)
    resolver = stack_resolver(
        template, values, region=region, account_id=account_id, stack=stack_name
    )
    resources: dict[str, Any] = template["Resources"]
    stack = Stack(stack_name, account_id, region, values)
    session = boto3.Session(region_name=region)

    def of_type(kind: str) -> dict[str, Any]:
        return {k: v for k, v in resources.items() if v["Type"] == kind}

    s3 = session.client("s3")
    for logical in of_type("AWS::S3::Bucket"):
        stack.bucket = f"{stack_name}-{logical}-{uuid.uuid4().hex[:8]}".lower()
        s3.create_bucket(
            Bucket=stack.bucket, CreateBucketConfiguration={"LocationConstraint": region}
        )
        resolver.refs[logical] = stack.bucket
        resolver.attributes[(logical, "Arn")] = f"arn:aws:s3:::{stack.bucket}"
    sns = session.client("sns")
    for logical in of_type("AWS::SNS::Topic"):
        stack.topic_arn = sns.create_topic(Name=f"{stack_name}-{logical}")["TopicArn"]
        resolver.refs[logical] = stack.topic_arn
        resolver.attributes[(logical, "TopicName")] = f"{stack_name}-{logical}"
    layer_dirs: dict[str, Path] = {}
    for logical, spec in of_type("AWS::Serverless::LayerVersion").items():
        layer_dirs[logical] = root / spec["Properties"]["ContentUri"]
        resolver.refs[logical] = f"arn:aws:lambda:{region}:{account_id}:layer:{logical}:1"

    iam = session.client("iam")
    role_arn = iam.create_role(
        RoleName=f"{stack_name}-emulated", AssumeRolePolicyDocument=LAMBDA_ROLE_POLICY
    )["Role"]["Arn"]
    lam = session.client("lambda")
    globals_ = template.get("Globals", {}).get("Function", {})
    for logical, spec in of_type("AWS::Serverless::Function").items():
        props = {**globals_, **spec["Properties"]}
        environment = {
            **globals_.get("Environment", {}).get("Variables", {}),
            **spec["Properties"].get("Environment", {}).get("Variables", {}),
        }
        env = {k: str(resolver.resolve(v)) for k, v in environment.items()}
        # A layer's files are under /opt in Lambda: point at the layer's source folder.
        for layer in props.get("Layers", []):
            layer_id = layer.get("Ref") if isinstance(layer, dict) else None
            if layer_id in layer_dirs:
                for key, value in env.items():
                    if value.startswith("/opt/"):
                        env[key] = str(layer_dirs[layer_id] / value[len("/opt/") :])
        if config_file is not None and "CONFIG_FILE" in env:
            env["CONFIG_FILE"] = str(Path(config_file).resolve())
        name = f"{stack_name}-{logical}"
        arn = lam.create_function(
            FunctionName=name,
            Runtime=str(props.get("Runtime", "python3.13")),
            Role=role_arn,
            Handler=props["Handler"],
            Code={"ZipFile": b"emulated"},
            Timeout=int(props.get("Timeout", 3)),
            MemorySize=int(props.get("MemorySize", 128)),
        )["FunctionArn"]
        fn = DeployedFunction(
            logical_id=logical,
            name=name,
            arn=arn,
            handler=props["Handler"],
            code_dir=root / props.get("CodeUri", "."),
            environment=env,
            memory_mb=int(props.get("MemorySize", 128)),
            timeout_s=int(props.get("Timeout", 3)),
            runtime=str(props.get("Runtime", "python3.13")),
        )
        stack.functions[name] = fn
        _REGISTRY[name] = fn
        resolver.refs[logical] = name
        resolver.attributes[(logical, "Arn")] = arn

    sfn = session.client("stepfunctions")
    machines = of_type("AWS::Serverless::StateMachine")
    if len(machines) != 1:
        raise TemplateError("the emulator expects exactly one AWS::Serverless::StateMachine")
    ((logical, spec),) = machines.items()
    props = spec["Properties"]
    definition = substitute_definition(
        (root / props["DefinitionUri"]).read_text(),
        props.get("DefinitionSubstitutions", {}),
        resolver,
    )
    stack.definition = definition
    # What moto's parser refuses and AWS accepts, rewritten as moto takes it (moto_asl).
    definition = moto_asl.for_moto(definition)
    # moto parses STANDARD children only: EXPRESS ones are checked, then run as STANDARD.
    definition, express_maps = express.as_standard(definition)
    stack.child_execution_type = "EXPRESS" if express_maps else "STANDARD"
    name = resolver.resolve(props.get("Name", f"{stack_name}-{logical}"))
    # The template's tags (SAM's map), as CloudFormation puts them on the state machine.
    tags = [
        {"key": key, "value": str(resolver.resolve(value))}
        for key, value in props.get("Tags", {}).items()
    ]
    stack.state_machine_arn = sfn.create_state_machine(
        name=name,
        definition=definition,
        roleArn=role_arn,
        **({"tags": tags} if tags else {}),
    )["stateMachineArn"]
    resolver.refs[logical] = stack.state_machine_arn
    resolver.attributes[(logical, "Name")] = name
    stack_record.record(session, stack, template, resolver)
    return stack
