"""docs/benchmarks.md from the benchmark's results (docs/benchmarks.json holds the same)."""

from __future__ import annotations

from typing import Any

from benchmarks import cost, synthetic
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
            ]
        )
    return rows


RUN_HEADER = [
    "size",
    "wall time (s)",
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
