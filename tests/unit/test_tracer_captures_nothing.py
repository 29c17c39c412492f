"""Nothing a function returns or raises becomes X-Ray metadata: review and booking pages carry candidates' names
and e-mail addresses, and exception messages can quote what a person typed.

The check runs Powertools' own Tracer: a fresh interpreter imports every handler and every layer module with
Tracer's decorators spied on, so each decoration is seen with the arguments it really got, however it is
written; then each is applied again, with those arguments, to a function returning (or raising) a marker,
under a recording provider. The POWERTOOLS_TRACER_CAPTURE_* variables are unset, so the code alone must say no.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers/foureyes/python"

PROBE = r'''
import contextlib, importlib, inspect, json, pkgutil, sys
from pathlib import Path

from aws_lambda_powertools import Tracer

MARKER = "jane.doe@example.com"
DECORATORS = ("capture_lambda_handler", "capture_method")
originals = {name: getattr(Tracer, name) for name in DECORATORS}
sites = []


def spy(name):
    original = originals[name]
    signature = inspect.signature(original)

    def decorator(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        func = bound.arguments.get("lambda_handler", bound.arguments.get("method"))
        if func is not None:
            options = {k: v for k, v in bound.arguments.items() if k in ("capture_response", "capture_error")}
            sites.append({"decorator": name, "function": f"{func.__module__}.{func.__qualname__}", **options})
        return original(self, *args, **kwargs)

    return decorator


for name in DECORATORS:
    setattr(Tracer, name, spy(name))

for app in sorted(Path(sys.argv[1], "functions").glob("*/app.py")):
    importlib.import_module(f"functions.{app.parent.name}.app")
import foureyes
for module in pkgutil.walk_packages(foureyes.__path__, "foureyes."):
    try:
        importlib.import_module(module.name)
    except ModuleNotFoundError as exc:  # the CLI's columnar reconcile path (dev extras), never in a Lambda
        if exc.name not in ("numpy", "polars"):
            raise

for name in DECORATORS:
    setattr(Tracer, name, originals[name])


class Subsegment:
    def __init__(self, sent):
        self.sent = sent

    def put_metadata(self, key, value, namespace=None):
        self.sent.append(f"{key}: {value!s}")

    def put_annotation(self, key, value):
        pass


class Provider:  # what Tracer hands to X-Ray, recorded instead of sent
    def __init__(self):
        self.sent = []

    @contextlib.contextmanager
    def in_subsegment(self, name=None, **kwargs):
        yield Subsegment(self.sent)

    def put_metadata(self, key, value, namespace=None):
        self.sent.append(f"{key}: {value!s}")


def returns(event=None, context=None):
    return {"statusCode": 200, "body": f"<p>Jane Doe &lt;{MARKER}&gt;</p>"}


def raises(event=None, context=None):
    raise ValueError(f"no such person: {MARKER}")


Tracer._reset_config()
provider = Provider()
tracer = Tracer(provider=provider, disabled=False, auto_patch=False)
leaks = []
for site in sites:
    options = {k: site[k] for k in ("capture_response", "capture_error") if k in site}
    for probe in (returns, raises):
        provider.sent.clear()
        with contextlib.suppress(ValueError):
            getattr(tracer, site["decorator"])(probe, **options)({}, None)
        if any(MARKER in sent for sent in provider.sent):
            leaks.append(f"{site['function']} ({site['decorator']}, {probe.__name__})")
print(json.dumps({"sites": sites, "leaks": leaks}))
'''


def _traced_by_source() -> set[str]:
    """Handlers whose source applies a Tracer decorator: the probe must have seen each of them."""
    return {f"functions.{p.parent.name}.app" for p in (ROOT / "functions").glob("*/app.py")
            if "capture_lambda_handler" in p.read_text()}


def test_no_handler_or_layer_module_sends_responses_or_errors_to_xray() -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("POWERTOOLS_TRACER_CAPTURE", "POWERTOOLS_TRACE_DISABLED", "PYTHONPATH"))}
    env["PYTHONPATH"] = os.pathsep.join([str(LAYER), str(ROOT)])
    env.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
    done = subprocess.run([sys.executable, "-c", PROBE, str(ROOT)], cwd=ROOT, env=env,  # noqa: S603
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    seen = {site["function"].rpartition(".handler")[0] for site in report["sites"]
            if site["decorator"] == "capture_lambda_handler"}
    assert _traced_by_source() <= seen, "the probe missed a traced handler"
    assert report["leaks"] == []


def _put_metadata_calls(path: Path) -> list[int]:
    return [node.lineno for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Attribute) and node.attr == "put_metadata"]


def test_nothing_puts_metadata_on_a_trace_by_hand() -> None:
    """Metadata is where payloads would go; annotations (ids, counts, flags) are what traces carry here."""
    sources = [*(ROOT / "functions").glob("*/app.py"), *sorted((LAYER / "foureyes").rglob("*.py"))]
    found = {str(p.relative_to(ROOT)): lines for p in sources if (lines := _put_metadata_calls(p))}
    assert found == {}
