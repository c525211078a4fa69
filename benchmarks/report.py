"""docs/benchmarks.md from the benchmark's results (docs/benchmarks.json holds the same)."""

from __future__ import annotations

from typing import Any

from benchmarks import aws_time, cost, synthetic
from benchmarks.floor import FORMULAS, S3_FORMULAS

FUNCTIONS = (
    "InUseScanFunction",
    "CollectorFunction",
    "EvaluatorFunction",
    "DeleterFunction",
    "SummaryFunction",
)


def _n(value: float | int) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"


def _mib(value: int | None) -> str:
    return "-" if not value else f"{value / 2**20:,.1f}"


def _price(value: float) -> str:
    return "$" + f"{value:.10f}".rstrip("0")


def _names(names: list[str]) -> str:
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)


def _usd(value: float) -> str:
    return f"${value:.4f}" if value >= 0.0001 else f"${value:.6f}"


def _table(header: list[str], rows: list[list[str]], align: str = "") -> list[str]:
    align = align or "l" + "r" * (len(header) - 1)
    marks = [":--" if a == "l" else "--:" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(marks) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _account(size: dict[str, Any]) -> str:
    inv = size["inventory"]
    return (
        f"{_n(inv['repositories'])} x {_n(inv['images_per_repository'])} images; "
        f"{inv['task_definition_families']} x {inv['revisions_per_family']} task definitions, "
        f"{inv['services']} services, {inv['lambda_versions']} Lambda versions"
    )


def _run_rows(sizes: list[dict[str, Any]], run: str) -> list[list[str]]:
    rows = []
    for size in sizes:
        r = size[run]
        rows.append(
            [
                f"{size['name']}",
                _n(r["wall_seconds"]),
                _n(r["deleted"]) if run == "first" else "0",
                _n(r["api_calls_total"]),
                _n(r["floor_total"]),
                f"{r['ratio']:.2f}",
                _n(sum(r["s3_calls"].values())),
                f"{r.get('s3_calls_per_repository', 0):.2f}",
                _n(r["child_executions"]),
                _n(r["history_events"]),
                _n(r["max_state_payload_bytes"]),
                _n(r["state_transitions"]),
                _usd(r["cost_usd"]["total"]),
                _s(r["aws_time"]["wall_s"][LOW]) if "aws_time" in r else "-",
            ]
        )
    return rows


LOW = str(aws_time.CONCURRENCIES[0])  # the template's default MapMaxConcurrency
RUN_HEADER = [
    "size",
    "emulator wall time (s)",
    "deleted",
    "API calls",
    "floor",
    "calls / floor",
    "S3 calls",
    "S3 calls per repository",
    "child executions",
    "parent history events",
    "largest state payload (bytes)",
    "state transitions",
    "estimated cost per run",
    f"modelled AWS time at MapMaxConcurrency {LOW} (s)",
]


def render(data: dict[str, Any]) -> str:
    sizes: list[dict[str, Any]] = data["sizes"]
    by_name = {s["name"]: s for s in sizes}
    out: list[str] = [
        "# Benchmarks",
        "",
        "<!-- Written by `make bench` (python -m benchmarks). Do not edit by hand. -->",
        "",
        "`make bench` builds synthetic accounts (seeded, so every run builds the same ones),",
        "runs the real workflow on each on the local emulator (the template, the state machine",
        "and the handlers, on moto; see [emulator.md](emulator.md)) and writes this page and",
        "[benchmarks.json](benchmarks.json). It fails if a run deletes anything other than",
        "what ecrm's rules say it must (worked out by the benchmark from the inventory alone).",
        "",
        f"These figures: {data['generated']}, Python {data['python']}, boto3 {data['boto3']},",
        f"moto {data['moto']}; the whole benchmark took "
        f"{_n(round(data['benchmark_seconds'] / 60))} minutes.",
        "",
        "API calls, state transitions, history events and payload sizes are what AWS would",
        "see. Times are the emulator's: every AWS call is answered in-process, so they show",
        "where the handlers spend their own time, not the network waits of a real account.",
        "",
        "## Sizes",
        "",
    ]
    out += _table(
        ["size", "account"],
        [[s["name"], _account(s)] for s in sizes],
        "ll",
    )
    out += [
        "",
        "## First run",
        "",
        'A deleting run (`{"dry_run": false}`) on the fresh account: the task definition',
        "cache is empty. Calls are the handlers' AWS API calls, every attempt included; S3",
        "calls (the run's own data and the cache) are counted apart. The floor is computed",
        "from the inventory (formulas below).",
        "",
    ]
    out += _table(RUN_HEADER, _run_rows(sizes, "first"))
    out += [
        "",
        "## Second run on the same account",
        "",
        "Right after the first run: its deletions are done (nothing is left to delete) and the",
        "task definition cache holds every revision the scan needs, so no",
        "DescribeTaskDefinition is called.",
        "",
    ]
    out += _table(RUN_HEADER, _run_rows(sizes, "second"))
    out += _aws_time_section(data)

    if "wide-20" in by_name and "wide-5000" in by_name:
        small, large = by_name["wide-20"]["first"], by_name["wide-5000"]["first"]
        out += [
            "",
            "## Flat from 20 to 5,000 repositories",
            "",
            "The same account shape (10 images a repository, the same ECS and Lambda",
            "resources) with 20 and with 5,000 repositories. The parent execution's",
            "history and every state payload (children included) stay the same size: each",
            "repository is a child execution with its own history, and the states pass",
            "only S3 keys and counts. The largest payload is the summary's output, whose",
            "notification table lists ten repositories and one line for the rest: it grows",
            "only by the digits of larger totals and counts.",
            "",
        ]
        rows = [
            ["parent history events", "history_events"],
            ["parent state transitions", "parent_transitions"],
            ["largest state payload (bytes)", "max_state_payload_bytes"],
            ["child executions", "child_executions"],
            ["API calls", "api_calls_total"],
            ["calls / floor", "ratio"],
            ["wall time (s)", "wall_seconds"],
        ]
        out += _table(
            ["", "20 repositories", "5,000 repositories"],
            [[label, _n(small[key]), _n(large[key])] for label, key in rows],
        )

    if "deep" in by_name:
        deep = by_name["deep"]
        first = deep["first"]
        deleter = first["functions"]["DeleterFunction"]
        batches = first["api_calls"].get("ecr:BatchDeleteImage", 0)
        out += [
            "",
            "## Deep repository: 10,000 images",
            "",
            f"The first run plans all {_n(deep['inventory']['images'])} images and deletes "
            f"{_n(first['deleted'])}, exactly the expected ones, in {_n(batches)} "
            "BatchDeleteImage calls of 100.",
            f"The deleter's handler took {_n(deleter['seconds'])} s on the emulator, against "
            f"its {_n(deleter['timeout_s'])} s timeout. In AWS its calls add network time: "
            f"about {_n(batches * 3)} sequential calls (for each batch of 100, a last look "
            "with DescribeImages, the BatchDeleteImage and an S3 write of its progress), at "
            "tens of milliseconds each well under a minute more, far inside the timeout.",
            "",
        ]
        out += _function_table(deep, "first")

    out += [
        "",
        "## Lambda functions",
        "",
        "Handler time on the emulator (all invocations of the first run) and the peak of",
        "Python allocations during one invocation (tracemalloc). Peak memory comes from a",
        "third run of each size on a fresh account, with tracing on; tracing slows Python",
        "about threefold, so the times come from the untraced first run. The peak does not",
        "include the interpreter and the imported code (the Python runtime starts at about",
        "40 MB in Lambda).",
        "",
    ]
    for size in sizes:
        traced = set(size["peak_memory_bytes"])
        untraced = sorted(set(size["first"]["functions"]) - traced)
        if untraced and traced:
            out += [
                f"The {size['name']} size traces only {_names(sorted(traced))}, whose work grows",
                "with the number of repositories; a dash marks a function it does not trace",
                "(the per-repository functions are those of the sizes above).",
                "",
            ]
    for size in sizes:
        out += [f"**{size['name']}** ({_account(size)})", ""]
        out += _function_table(size, "first")
        out += [""]

    out += [
        "## API calls per operation",
        "",
        "First and second run, each against its floor. An operation the floor does not",
        "name has a floor of 0; operations neither run called are left out.",
        "",
    ]
    for size in sizes:
        first, second = size["first"], size["second"]
        operations = sorted(
            op
            for op in set(first["api_calls"])
            | set(first["floor"])
            | set(second["api_calls"])
            | set(second["floor"])
            if any(run[key].get(op) for run in (first, second) for key in ("api_calls", "floor"))
        )
        out += [f"**{size['name']}**", ""]
        out += _table(
            ["operation", "first run", "floor", "second run", "floor"],
            [
                [
                    f"`{op}`",
                    _n(first["api_calls"].get(op, 0)),
                    _n(first["floor"].get(op, 0)),
                    _n(second["api_calls"].get(op, 0)),
                    _n(second["floor"].get(op, 0)),
                ]
                for op in operations
            ],
        )
        s3_first = ", ".join(f"{k[3:]} {_n(v)}" for k, v in first["s3_calls"].items())
        s3_second = ", ".join(f"{k[3:]} {_n(v)}" for k, v in second["s3_calls"].items())
        out += ["", f"S3: first run {s3_first}; second run {s3_second}.", ""]
        if "s3_floor" in first:
            out += ["S3 calls per phase (function), each against its floor:", ""]

            def phase(run: dict[str, Any], key: str, function: str) -> str:
                calls = run[key].get(function, {})
                return ", ".join(f"{op[3:]} {_n(n)}" for op, n in calls.items()) or "0"

            functions = sorted(set(first["s3_floor"]) | set(first["s3_calls_by_function"]))
            out += _table(
                ["function", "first run", "floor", "second run", "floor"],
                [
                    [
                        f,
                        phase(first, "s3_calls_by_function", f),
                        phase(first, "s3_floor", f),
                        phase(second, "s3_calls_by_function", f),
                        phase(second, "s3_floor", f),
                    ]
                    for f in functions
                ],
                "lllll",
            )
            out += [""]

    out += [
        "## The floor",
        "",
        "The fewest calls a run can make on the account, with each API's largest page.",
        "A listing makes one call even when it finds nothing (⌈0 / n⌉ counts as 1);",
        "a describe call is made only when there is something to describe. The deleter's",
        "last look at the images it is about to delete (DescribeImages by digest, 100 a",
        "call) and the repository protect tag (read once by the scan for the whole",
        "registry with the Tagging API's GetResources, and again by the deleter of a",
        "repository with deletions with ListTagsForResource, in case it was set during the",
        "run) are safety checks the sweeper makes on purpose; they are part of its floor.",
        "",
    ]
    out += _table(
        ["operation", "floor"],
        [[f"`{op}`", formula] for op, formula in FORMULAS.items()],
        "ll",
    )
    out += [
        "",
        "### S3: the run's own data, per phase",
        "",
        "S3 calls are counted apart from the API calls above, per function (each phase of",
        "the run), and each phase has a floor of its own. What a repository needs is handed",
        "on in the state payload when it fits 8 KiB: its images from Collect to Evaluate,",
        "its plan from Evaluate to its deleter (through the plan Map's results and the",
        "approved list), its result from the deleter (or, for a plan with nothing to",
        "delete, from Evaluate) to the summary, through the Maps' results, which Step",
        "Functions writes (its own S3 calls, not counted). Larger ones are run files,",
        "sealed by their SHA-256 as before; how many there were is read from the run",
        "bucket afterwards. The config snapshot and the in-use set are read once per warm",
        "container (the emulator keeps one per function), kept by their SHA-256. A plan",
        "that deletes nothing starts no sweep child; a deleter proves its plan's approval",
        "from its own item (a Merkle proof against the root CheckCaps returned) instead of",
        "reading the approved list, and reads only the run lock and its journal, which it",
        "writes before each batch of 100 it sends. So a repository with up to 100",
        "deletions costs 3 S3 calls (1 more for a plan, or a result, too large to travel",
        "inline), and one with nothing to delete 0; the rest is per run.",
        "",
    ]
    out += _table(
        ["function", "S3 floor"],
        [[f, formula] for f, formula in S3_FORMULAS.items()],
        "ll",
    )
    out += [
        "",
        "How the scan stays at its floor:",
        "",
        "- Every listing asks for the largest page its API allows (ECS 100, ECR 1,000,",
        "  Lambda ListFunctions and ListVersionsByFunction 50, ListAliases 10,000).",
        "- Nothing the config excludes is listed when the API can filter: families are",
        "  listed with the longest prefix every `task_definitions` entry shares",
        "  (`familyPrefix`), revisions per family, tasks per desired status; an empty",
        "  section (`clusters: []`) lists nothing at all.",
        "- No call is repeated within a run: each task definition is described once",
        "  however many services, tasks and rules name it.",
        "- Task definitions never change, so their images are cached in the run bucket",
        "  (`cache/task-definitions/images.json`, outside `runs/`, so it does not expire)",
        "  and only revisions not seen before are described. The cache keeps exactly the",
        "  revisions the last run needed. An unreadable cache only costs calls: the scan",
        "  then describes every revision.",
        "- Independent calls (listings per cluster and family, DescribeServices,",
        "  DescribeTasks, DescribeTaskDefinition, ListAliases, ListVersionsByFunction,",
        "  GetFunction) run 8 at a time on one client per service, in botocore's adaptive",
        "  retry mode, which slows the client down when AWS throttles.",
    ]
    out += [
        "",
        "## Estimated cost per run",
        "",
        "At published on-demand prices (US East (N. Virginia), first tier, no free tier):",
        "",
        "| item | price |",
        "| :-- | --: |",
        f"| Step Functions state transition (STANDARD) | ${cost.TRANSITION * 1000:.3f} per 1,000 |",
        f"| Step Functions EXPRESS execution | ${cost.EXPRESS_REQUEST * 1e6:.2f} per million, "
        f"plus {_price(cost.EXPRESS_GB_SECOND)} per GB-second at 64 MB |",
        f"| Lambda arm64 | {_price(cost.LAMBDA_GB_SECOND)} per GB-second, "
        f"${cost.LAMBDA_REQUEST * 1e6:.2f} per million requests |",
        f"| S3 | ${cost.S3_WRITE * 1000:.3f} per 1,000 PUT or LIST, "
        f"${cost.S3_READ * 1000:.4f} per 1,000 GET or HEAD |",
        "",
        "State transitions are the states entered in every execution, children included,",
        "plus one per child execution the Distributed Map starts (as AWS bills it). Lambda",
        "GB-seconds are each function's emulator time times its memory size: a lower bound,",
        "since AWS adds network time to every call. ECR, ECS and Lambda API calls are free.",
        "",
    ]
    rows = []
    for size in sizes:
        c = size["first"]["cost_usd"]
        rows.append(
            [
                size["name"],
                _usd(c["transitions"]),
                _usd(c["lambda_compute"] + c["lambda_requests"]),
                _usd(c["s3"]),
                _usd(c["total"]),
                _usd(c["total_with_express_children"]),
            ]
        )
    out += _table(
        [
            "size (first run)",
            "transitions",
            "Lambda",
            "S3",
            "total, STANDARD children",
            "total, EXPRESS children",
        ],
        rows,
    )
    out += [
        "",
        "With `ChildExecutionType=EXPRESS` a child costs one transition (its start) plus",
        "an EXPRESS execution billed for its duration (here the sum of its Lambda times,",
        "rounded up to 100 ms) at 64 MB, instead of its own state transitions.",
        "",
    ]
    out += _child_type_section(data)
    out += [
        "## How the accounts are built",
        "",
    ]
    out += [line.strip() if not line.startswith("  ") else line for line in _generator_doc()]
    out += [
        "",
        "Every size runs with this config:",
        "",
        "```yaml",
        *synthetic.config_text(True).rstrip().splitlines(),
        "```",
        "",
        "Each size is run three times: a deleting run on a fresh account (the first run),",
        "a second deleting run on the same account, and a deleting run on another fresh",
        "account with memory tracing. Every run must delete exactly the expected images.",
        "",
    ]
    return "\n".join(out)


def _function_table(size: dict[str, Any], run: str) -> list[str]:
    functions = size[run]["functions"]
    peaks = size.get("peak_memory_bytes", {})
    rows = []
    for name in [f for f in FUNCTIONS if f in functions] + sorted(
        f for f in functions if f not in FUNCTIONS
    ):
        f = functions[name]
        rows.append(
            [
                name,
                _n(f["invocations"]),
                _n(f["seconds"]),
                _n(f["seconds"] / f["invocations"]) if f["invocations"] else "-",
                f"{f['memory_mb']} MB / {f['timeout_s']} s",
                _mib(peaks.get(name)),
            ]
        )
    return _table(
        [
            "function",
            "invocations",
            "time (s)",
            "time per invocation (s)",
            "memory size / timeout",
            "peak Python memory (MiB)",
        ],
        rows,
    )


def _generator_doc() -> list[str]:
    text = synthetic.__doc__ or ""
    lines = text.strip().splitlines()
    return lines[2:] if len(lines) > 2 else lines


def _s(seconds: float) -> str:
    """Seconds, with minutes beside them from two minutes on."""
    if seconds < 120:
        return f"{seconds:,.1f}"
    return f"{seconds:,.0f} ({seconds / 60:,.0f} min)"


def _formulas() -> list[str]:
    """The model's formulas, from benchmarks/aws_time.py's docstring (said once, there)."""
    text = aws_time.__doc__ or ""
    body = text.split("The formulas (docs/benchmarks.md states them too):", 1)[-1]
    body = body.split("Pure:", 1)[0]
    return [line.rstrip() for line in body.strip().splitlines()]


# Where each assumed figure comes from (benchmarks/aws_time.py cites the same).
ASSUMPTION_SOURCES = {
    "default_latency_s": "assumed: AWS publishes no API latency (an in-region request)",
    "ecr:BatchDeleteImage": "assumed: a write, three times a read",
    "s3": "Amazon S3 performance guidelines: small objects roughly 100-200 ms",
    "default_rate_per_s": (
        "assumed: ECR publishes no rate for DescribeRepositories, DescribeImages, "
        "BatchDeleteImage or ListTagsForResource (nor for the Tagging API)"
    ),
    "ecr:BatchGetImage": "ECR service quotas: 2,000 per second",
    "ecs": "ECS API request throttling: read actions, about 20 per second sustained",
    "lambda": "Lambda quotas: control plane 15 per second, GetFunction 100 per second",
    "s3 rate": "S3 performance guidelines: 3,500 PUT and 5,500 GET per second per prefix",
    "cold_start_s": "assumed: Python, boto3 and pydantic imported (measure: REPORT Init Duration)",
    "warm_start_s": "assumed: the lambda:invoke round trip on a warm function",
    "transition_s": "assumed: Step Functions publishes no transition latency",
    "child_start_s": "assumed: starting one Distributed Map child",
    "map_start_s": "assumed: a Map Run's ItemReader and ResultWriter",
}


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def _assumption_rows(assume: dict[str, Any]) -> list[list[str]]:
    latency = assume["latency_s"]
    rate = assume["rate_per_s"]
    rows = [
        [
            "latency of a call",
            _ms(assume["default_latency_s"]),
            ASSUMPTION_SOURCES["default_latency_s"],
        ],
        [
            "latency of `ecr:BatchDeleteImage`",
            _ms(latency.get("ecr:BatchDeleteImage", assume["default_latency_s"])),
            ASSUMPTION_SOURCES["ecr:BatchDeleteImage"],
        ],
        [
            "latency of an S3 call",
            _ms(latency.get("s3:GetObject", assume["default_latency_s"])),
            ASSUMPTION_SOURCES["s3"],
        ],
        [
            "rate at which ECR throttles (each API)",
            f"{assume['default_rate_per_s']:,.0f} per second",
            ASSUMPTION_SOURCES["default_rate_per_s"],
        ],
        [
            "rate of `ecr:BatchGetImage`",
            f"{rate.get('ecr:BatchGetImage', 0):,.0f} per second",
            ASSUMPTION_SOURCES["ecr:BatchGetImage"],
        ],
        [
            "rate of an ECS read",
            f"{assume['default_rate_per_s']:,.0f} per second",
            ASSUMPTION_SOURCES["ecs"],
        ],
        [
            "rate of Lambda listings / GetFunction",
            f"{rate.get('lambda:ListFunctions', 0):,.0f} / "
            f"{rate.get('lambda:GetFunction', 0):,.0f} per second",
            ASSUMPTION_SOURCES["lambda"],
        ],
        [
            "rate of S3 writes / reads",
            f"{rate.get('s3:PutObject', 0):,.0f} / {rate.get('s3:GetObject', 0):,.0f} per second",
            ASSUMPTION_SOURCES["s3 rate"],
        ],
    ]
    for key, label in (
        ("cold_start_s", "Lambda cold start"),
        ("warm_start_s", "Lambda warm invocation"),
        ("transition_s", "state transition"),
        ("child_start_s", "child execution start"),
        ("map_start_s", "Map Run start and end"),
    ):
        rows.append([label, _ms(assume[key]), ASSUMPTION_SOURCES[key]])
    workers = assume["workers"]
    rows.append(
        [
            "calls at once: the scan / the summary",
            f"{workers.get('InUseScanFunction', 1)} / {workers.get('SummaryFunction', 1)}",
            "their thread pools (the summary's is min(16, CPUs): 2 at 512 MB)",
        ]
    )
    rows.append(
        [
            "handler time",
            f"{assume['compute_scale']:g} x the emulator's",
            "as measured: it includes moto answering the calls, and Lambda's CPU is slower",
        ]
    )
    return rows


def _modelled(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The sizes whose runs have the AWS time model's figures (older results have none)."""
    return [s for s in data["sizes"] if all("aws_time" in s[r] for r in ("first", "second"))]


NOT_MODELLED = [
    "These results predate the model: `make bench` writes its figures here.",
]


def _aws_time_section(data: dict[str, Any]) -> list[str]:
    sizes = _modelled(data)
    out = [
        "",
        "## The time AWS would take",
        "",
        "The emulator's wall time is not AWS's: there every call waits on the network and",
        "on rate limits. `benchmarks/aws_time.py` models AWS's time from what each run",
        "did (the calls each function made, per operation; the child executions of each",
        "Map; the Lambda invocations) with the latencies and rate limits below, each a",
        "parameter. The floor is every ECR and in-use call at its API's rate limit, all",
        "APIs at once and nothing waiting on anything. ecrm is the same account swept by",
        "ecrm, its calls (`benchmarks/ecrm.py`, from its source) made one after the other.",
        "",
    ]
    out += _aws_time_figures(sizes) if sizes else NOT_MODELLED
    out += [
        "",
        "The model:",
        "",
        *_formulas(),
        "",
        "Its assumptions (`aws_time.Assumptions`; change one and run `make bench` again):",
        "",
    ]
    out += _table(
        ["figure", "value", "source"],
        _assumption_rows(
            data.get("aws_time_assumptions") or aws_time.describe(aws_time.Assumptions())
        ),
        "lrl",
    )
    out += [
        "",
        "Read the estimates as orders of magnitude: the latencies and most rates are",
        "assumptions. What the model shows is where the time goes: at these rates a Map's",
        "children soon share ECR's rate limit, past which a higher MapMaxConcurrency",
        "gains nothing; ecrm pays every call's latency in turn.",
    ]
    return out


def _aws_time_figures(sizes: list[dict[str, Any]]) -> list[str]:
    concurrencies = list(sizes[0]["first"]["aws_time"]["wall_s"])
    rows = []
    for size in sizes:
        for run in ("first", "second"):
            t = size[run]["aws_time"]
            rows.append(
                [
                    f"{size['name']} ({run})",
                    _s(t["floor_s"]),
                    *[_s(t["wall_s"][c]) for c in concurrencies],
                    _s(t["ecrm_sequential_s"]),
                    _n(sum(t["ecrm_calls"].values())),
                ]
            )
    out = _table(
        [
            "size (run)",
            "floor (s)",
            *[f"MapMaxConcurrency {c} (s)" for c in concurrencies],
            "ecrm, sequential (s)",
            "ecrm's calls",
        ],
        rows,
    )
    low = concurrencies[0]
    out += [
        "",
        f"Each step of the first run at MapMaxConcurrency {low} (seconds; `plan` and",
        "`sweep` are the Distributed Maps):",
        "",
    ]
    names = [name for name, _, _ in aws_time.WORKFLOW]
    out += _table(
        ["size", *names],
        [
            [size["name"], *[_s(size["first"]["aws_time"]["steps_s"][low][n]) for n in names]]
            for size in sizes
        ],
    )
    return out


def _recommendation(size: dict[str, Any], concurrencies: list[str]) -> str:
    """A child type for the size, from its figures: EXPRESS only when it saves money and
    every modelled child stays well inside its 5 minutes (half, for retries and skew)."""
    first = size["first"]["aws_time"]
    longest = max(max(first["longest_child_s"][c].values(), default=0.0) for c in concurrencies)
    costs = first["cost_usd"]
    saving = costs["standard"] - costs[f"express_{concurrencies[-1]}"]
    limit = aws_time.EXPRESS_LIMIT_S
    if longest > limit:
        return (
            f"STANDARD: a child would take {_s(longest)} s, past EXPRESS's "
            f"{limit / 60:.0f} minutes."
        )
    if longest > limit / 2:
        return (
            f"STANDARD: a child would take {_s(longest)} s, more than half of "
            f"EXPRESS's {limit / 60:.0f} minutes."
        )
    if saving < 0.01:
        return (
            f"STANDARD: EXPRESS would save {_usd(saving)} a run, less than the console's "
            "step-by-step child history is worth."
        )
    return (
        f"EXPRESS: {_usd(saving)} less a run ({saving / costs['standard']:.0%}), and its "
        f"longest child ({_s(longest)} s) stays far inside {limit / 60:.0f} minutes."
    )


def _child_type_section(data: dict[str, Any]) -> list[str]:
    sizes = _modelled(data)
    out = [
        "## STANDARD or EXPRESS children",
        "",
        "`ChildExecutionType=EXPRESS` runs each Map child as an EXPRESS execution: billed",
        f"${cost.EXPRESS_REQUEST * 1e6:.2f} per million and by the GB-second of its",
        "duration instead of by state transition. What it gives up: an EXPRESS execution",
        f"stops after {aws_time.EXPRESS_LIMIT_S / 60:.0f} minutes (the child fails), it runs",
        "at least once (the deleter's journal makes a repeated child harmless), and its",
        "history is only in CloudWatch Logs (the stack logs errors only), so a child's",
        "steps are not in the console. `python -m benchmarks --child-type EXPRESS` runs",
        "the sizes with EXPRESS children; the emulator runs the same states either way, so",
        "the counts are the same (tests/workflow/test_express.py).",
        "",
    ]
    if not sizes:
        return [*out, *NOT_MODELLED, ""]
    concurrencies = list(sizes[0]["first"]["aws_time"]["wall_s"])
    low, high = concurrencies[0], concurrencies[-1]
    ran = sorted({s.get("child_type", "STANDARD") for s in sizes})
    out += [
        f"These runs had {' and '.join(ran)} children. Cost of the first run with Lambda",
        "billed for the modelled AWS durations, and each EXPRESS child for its modelled",
        "duration (throttling and a cold start included):",
        "",
    ]
    rows = []
    for size in sizes:
        t = size["first"]["aws_time"]
        c = t["cost_usd"]
        rows.append(
            [
                size["name"],
                _usd(c["standard"]),
                _usd(c[f"express_{low}"]),
                _usd(c[f"express_{high}"]),
                " / ".join(_s(v) for v in t["longest_child_s"][low].values()),
                " / ".join(_s(v) for v in t["longest_child_s"][high].values()),
            ]
        )
    out += _table(
        [
            "size (first run)",
            "STANDARD",
            f"EXPRESS, MapMaxConcurrency {low}",
            f"EXPRESS, MapMaxConcurrency {high}",
            f"child, plan / sweep (s), at {low}",
            f"at {high}",
        ],
        rows,
    )
    limits = sizes[0]["first"]["aws_time"]["express_max_deletions"]
    out += [
        "",
        "Which limit stops EXPRESS: the 5 minutes of a sweep child, once its repository is",
        "large and its siblings share ECR's rate. `aws_time.express_max_deletions` gives the",
        "most images one sweep child deletes in 5 minutes when MapMaxConcurrency children",
        "delete at once: "
        + ", ".join(f"{_n(int(v))} at {c}" for c, v in limits.items())
        + ". A repository with more to delete fails its EXPRESS child; a STANDARD child",
        "has the deleter's 15-minute timeout, three times as long.",
        "",
        "Recommended child type per size:",
        "",
    ]
    out += _table(
        ["size", "recommendation"],
        [[s["name"], _recommendation(s, concurrencies)] for s in sizes],
        "ll",
    )
    out += [""]
    return out
