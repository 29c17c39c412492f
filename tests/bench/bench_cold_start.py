"""Cold-start import time of every function's handler module, as Lambda's python3.11 runtime imports it.

    .venv/bin/python tests/bench/bench_cold_start.py [--runs 7] [--only ReviewFunction,BookingFunction] [--top 12]
                                                     [--sam-local] [--no-bytecode]

For each function of template.yaml (Globals merged: CodeUri, Handler, environment) the handler module is
imported in fresh `python -S` processes (as the local cloud's workers run it) with exactly Lambda's search
path - code dir, the foureyes layer, the built DepsLayer, the runtime's boto3 (`.build`, made by the local
cloud) - and a Lambda-like environment: the function's variables plus what the runtime sets before init
(LAMBDA_TASK_ROOT, AWS_LAMBDA_FUNCTION_NAME, the X-Ray daemon address with `Tracing: Active`, ...). So
Powertools Tracer is enabled and patches modules as it does on Lambda; `--sam-local` sets AWS_SAM_LOCAL
instead, as the local cloud does (Tracer disabled). One discarded run first writes the byte-code caches;
`--no-bytecode` imports copies of the layers without any .pyc instead, as `sam build` ships them today.

Prints median and max wall time per function (and the median CPU time: less disturbed by other load on a
shared machine), then the costliest imports of the slowest (`-X importtime`).
A benchmark, not a test: the figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from foureyes_local.cfn import Resolver, load_template

ROOT = Path(__file__).resolve().parents[2]
TARGET_MS = 250.0
REGION = "eu-west-1"
# Times only the import (interpreter start-up is Lambda's, not ours) and checks the handler is there: wall
# time, and the process's CPU time, which other load on a shared machine disturbs much less.
# __import__, not importlib.import_module: only the import statement's path is seen by -X importtime.
PROBE = ("import sys, time\n"
         "module, _, name = sys.argv[1].rpartition('.')\n"
         "wall, cpu = time.perf_counter(), time.process_time()\n"
         "__import__(module)\n"
         "getattr(sys.modules[module], name)\n"
         "print((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000)\n")
IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)$")


@dataclass(frozen=True)
class Function:
    logical_id: str
    code_dir: Path
    handler: str
    environment: dict[str, str]


def functions(template_path: Path, sam_local: bool) -> list[Function]:
    """Every AWS::Serverless::Function with Globals applied; refs to resources become placeholder names."""
    template = load_template(template_path)
    resolver = Resolver(template, parameters={},
                        pseudo={"AWS::Region": REGION, "AWS::AccountId": "123456789012", "AWS::Partition": "aws",
                                "AWS::StackName": "foureyes-bench", "AWS::URLSuffix": "amazonaws.com"},
                        ref=lambda name: f"bench-{name}", get_att=lambda name, attr: f"bench-{name}-{attr}")
    globals_: dict[str, Any] = (template.get("Globals") or {}).get("Function") or {}
    found = []
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = {**globals_, **resource.get("Properties", {})}
        variables = {**(globals_.get("Environment") or {}).get("Variables", {}),
                     **(resource["Properties"].get("Environment") or {}).get("Variables", {})}
        code_dir = (template_path.parent / str(props["CodeUri"])).resolve()
        handler = str(props["Handler"])
        name = f"foureyes-bench-{logical_id}"
        runtime = {  # what the Lambda runtime sets before it imports the handler
            "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
            "AWS_LAMBDA_FUNCTION_NAME": name, "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(props.get("MemorySize", 128)),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}", "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11", "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_SESSION_TOKEN": "bench",
            "LAMBDA_TASK_ROOT": str(code_dir), "LAMBDA_RUNTIME_DIR": "/var/runtime", "_HANDLER": handler,
            "TZ": ":UTC", "LANG": "en_US.UTF-8", "PATH": "/usr/local/bin:/usr/bin:/bin",
        }
        if props.get("Tracing") == "Active":
            runtime |= {"AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000", "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR"}
        if sam_local:
            runtime["AWS_SAM_LOCAL"] = "true"
        environment = runtime | {key: str(resolver.resolve(value)) for key, value in variables.items()}
        found.append(Function(logical_id, code_dir, handler, environment))
    return found


@dataclass(frozen=True)
class Layers:
    """Where the function's /opt/python and the runtime's packages are; `bytecode` False: none is written."""

    foureyes: Path
    deps: Path
    runtime: Path
    bytecode: bool = True


def built_layers() -> Layers:
    build = ROOT / ".build"
    layers = Layers(ROOT / "layers/foureyes/python", build / "layers/DepsLayer/python", build / "runtime/python")
    for path in (layers.deps, layers.runtime):
        if not path.is_dir():
            sys.exit(f"{path} is missing: start the local cloud once (it builds .build) and run again")
    return layers


def without_bytecode(layers: Layers, scratch: Path) -> Layers:
    """The layers as `sam build` ships them: no .pyc, and /opt is read-only, so every cold start compiles them."""
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(layers.foureyes, scratch / "foureyes", ignore=skip)
    shutil.copytree(layers.deps, scratch / "deps", ignore=skip)
    return Layers(scratch / "foureyes", scratch / "deps", layers.runtime, bytecode=False)


def run(python: str, function: Function, layers: Layers, importtime: bool = False) -> subprocess.CompletedProcess[str]:
    flags = ["-X", "importtime"] if importtime else []
    path = os.pathsep.join(str(p) for p in (function.code_dir, layers.foureyes, layers.deps, layers.runtime))
    env = function.environment | {"PYTHONPATH": path} | ({} if layers.bytecode else {"PYTHONDONTWRITEBYTECODE": "1"})
    return subprocess.run([python, "-S", *flags, "-c", PROBE, function.handler], cwd=function.code_dir,  # noqa: S603
                          env=env, capture_output=True, text=True, check=True)


def import_ms(python: str, function: Function, layers: Layers) -> tuple[float, float]:
    """Wall and CPU milliseconds of one cold import."""
    wall, cpu = run(python, function, layers).stdout.split()[-2:]
    return float(wall), float(cpu)


def costly_imports(python: str, function: Function, layers: Layers, top: int) -> list[str]:
    """The handler's direct imports by cumulative time, and self time summed by top-level package."""
    module = function.handler.rpartition(".")[0]
    rows = []
    for line in run(python, function, layers, importtime=True).stderr.splitlines():
        match = IMPORTTIME.match(line)
        if match:
            rows.append((int(match[1]), int(match[2]), len(match[3]) // 2, match[4]))
    start = max(index for index, row in enumerate(rows) if row[3] == module and row[2] == 0)
    # -X importtime prints children before their parent: the handler's subtree is the rows before it.
    first = start
    while first > 0 and rows[first - 1][2] > 0:
        first -= 1
    subtree = rows[first:start + 1]
    direct = sorted((row for row in subtree if row[2] == 1), key=lambda row: -row[1])[:top]
    by_package: dict[str, int] = defaultdict(int)
    for self_us, _, _, name in subtree:
        by_package[name.split(".")[0]] += self_us
    lines = [f"  handler module {module}: {subtree[-1][1] / 1000:.0f} ms under -X importtime", "  its imports:"]
    lines += [f"    {cumulative / 1000:7.1f} ms  {name}" for _, cumulative, _, name in direct]
    lines.append("  self time by top-level package:")
    heaviest = sorted(by_package.items(), key=lambda kv: -kv[1])[:top]
    lines += [f"    {us / 1000:7.1f} ms  {name}" for name, us in heaviest]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="timed imports per function (after one warm-up)")
    parser.add_argument("--only", default="", help="comma-separated logical ids (default: every function)")
    parser.add_argument("--top", type=int, default=10, help="costly imports listed for the slowest function")
    parser.add_argument("--sam-local", action="store_true", help="AWS_SAM_LOCAL=true, as the local cloud runs")
    parser.add_argument("--no-bytecode", action="store_true",
                        help="layers without .pyc, as sam build ships them today (compiled at every cold start)")
    parser.add_argument("--python", default=sys.executable, help="a python3.11 interpreter (default: this one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as scratch:
        layers = without_bytecode(built_layers(), Path(scratch)) if args.no_bytecode else built_layers()
        return bench(args, layers)


def bench(args: argparse.Namespace, layers: Layers) -> int:
    chosen = {name for name in args.only.split(",") if name}
    selected = [f for f in functions(ROOT / "template.yaml", args.sam_local) if not chosen or f.logical_id in chosen]
    if not selected:
        sys.exit(f"no function of template.yaml is called {args.only}")
    mode = "AWS_SAM_LOCAL (Tracer disabled)" if args.sam_local else "Lambda-like (Tracer enabled)"
    mode += "" if layers.bytecode else ", layers without .pyc"
    print(f"handler import time, {mode}, {args.runs} runs each, target < {TARGET_MS:.0f} ms median")
    results: dict[str, float] = {}
    for function in selected:
        import_ms(args.python, function, layers)  # warm-up: byte-code caches (of the code dir, with --no-bytecode)
        walls, cpus = zip(*(import_ms(args.python, function, layers) for _ in range(args.runs)), strict=True)
        results[function.logical_id] = median = statistics.median(walls)
        flag = "" if median < TARGET_MS else "  OVER TARGET"
        print(f"{function.logical_id:26} {function.code_dir.name:16} median {median:5.0f} ms  max {max(walls):5.0f} ms"
              f"  (CPU median {statistics.median(cpus):4.0f} ms){flag}", flush=True)
    slowest = max(selected, key=lambda f: results[f.logical_id])
    print(f"\nslowest: {slowest.logical_id} ({slowest.code_dir.name}/{slowest.handler})")
    print("\n".join(costly_imports(args.python, slowest, layers, args.top)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
