"""The local cloud: moto as the AWS, template.yaml as the truth, one warm process per function.

`LocalCloud(...).start()` runs moto's server (Step Functions *executing* ASL), provisions every
resource of the template, routes every Lambda invocation path to the function workers (Step
Functions tasks and direct Invoke through moto, SNS, table streams, schedules, the API gateway,
alarm actions) and keeps an outbox of the e-mails SES sent.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from foureyes_local.gateway import ApiSettings, LocalSite, serve
from foureyes_local.iam import enforce_role_policies
from foureyes_local.motofix import lock_compliance_retention, serialise_dynamodb, stop_executions_at_once
from foureyes_local.stack import ScheduleSource, Stack
from foureyes_local.triggers import (
    AlarmWatcher,
    AsyncInvoker,
    Destinations,
    Scheduler,
    StreamPoller,
    emf_metrics,
    scheduled_event,
)
from foureyes_local.ttl import TtlReaper
from foureyes_local.workers import FunctionPool, FunctionSpec, InvokeResult

log = logging.getLogger("foureyes_local")

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"https?://[^\s\"'<>]+")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def build_layers(stack: Stack, build_dir: Path, quiet: bool = False) -> None:
    """What `sam build` does for the layers with a BuildMethod, plus the runtime's own boto3.

    Installed with pip into build_dir (cached by the requirements' hash), so functions import only
    what their layers really hold, exactly as on Lambda.
    """
    jobs = {f"layers/{logical}": (source / "requirements.txt").read_text()
            for logical, source in stack.built_layers().items()}
    jobs["runtime"] = "boto3\n"  # the python3.11 Lambda runtime ships boto3
    for name, requirements in jobs.items():
        target = build_dir / name / "python"
        stamp = build_dir / name / ".requirements.sha256"
        digest = hashlib.sha256(requirements.encode()).hexdigest()
        if stamp.exists() and stamp.read_text() == digest and target.exists():
            continue
        if not quiet:
            print(f"Building {name} (pip install into {target}) ...", flush=True)
        req_file = build_dir / name / "requirements.txt"
        req_file.parent.mkdir(parents=True, exist_ok=True)
        req_file.write_text(requirements)
        subprocess.run(  # noqa: S603
            [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-warn-conflicts",
             "--upgrade", "--target", str(target), "-r", str(req_file)],
            check=True)
        stamp.write_text(digest)


@dataclass
class Endpoints:
    aws: str
    api: str


class LocalCloud:
    def __init__(self, root: Path = ROOT, *, aws_port: int = 0, api_port: int = 0, state_dir: Path | None = None,
                 stage: str = "local", schedules: bool = True, parameters: dict[str, str] | None = None,
                 fake_records: int = 60, fake_seed: int = 1, ttl_interval: float = 10.0) -> None:
        self.root = root
        self.aws_port = aws_port or free_port()
        self.api_port = api_port or free_port()
        self.state_dir = state_dir or root / ".local"
        self.build_dir = root / ".build"
        self.log_dir = self.state_dir / "logs"
        self.stage = stage
        self.run_schedules = schedules
        self.endpoints = Endpoints(aws=f"http://127.0.0.1:{self.aws_port}", api=f"http://127.0.0.1:{self.api_port}")
        # The first stage of an account: the stack creates the sender identity (moto verifies it at once).
        self.parameters = {"Stage": stage, "PublicBaseUrl": self.endpoints.api, "CreateSenderIdentity": "true",
                           **(parameters or {})}
        self.pools: dict[str, FunctionPool] = {}
        self.pollers: list[StreamPoller] = []
        self.alarms: AlarmWatcher | None = None
        self.ttl: TtlReaper | None = None
        self._ttl_interval = ttl_interval
        self._stop = threading.Event()
        self._moto: Any = None
        self._patched: list[tuple[Any, str, Any, Any]] = []  # (owner, attribute, before, ours): undone by stop()
        self._http: Any = None
        self._fake_records = fake_records
        self._fake_seed = fake_seed
        self.fakes: Any = None
        self.graph: Any = None
        self.hris: Any = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start everything; on any failure stop what was started (moto, fakes, workers) and raise."""
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request lines
        self.log_dir.mkdir(parents=True, exist_ok=True)
        # The template is transformed and ordered first: a loop or an unknown type stops start-up before moto runs.
        self.stack = Stack(root=self.root, aws_endpoint=self.endpoints.aws, build_dir=self.build_dir,
                           parameters=self.parameters)
        build_layers(self.stack, self.build_dir)
        try:
            self._start_moto()
            self.stack.provision()
            self._initialise_operational_state()
            self._start_fakes()
            self._start_functions()
        except BaseException:
            self.stop()
            raise
        (self.state_dir / "endpoints.json").write_text(json.dumps(self.describe(), indent=1))

    def _start_functions(self) -> None:
        """Workers, and every path that invokes them: streams, schedules, alarms, asynchronous events, the API."""
        self._by_name: dict[str, str] = {}
        for logical, spec in self.stack.functions.items():
            self.pools[logical] = FunctionPool(spec, self.log_dir, self._on_log_line)
            self._by_name[spec.name] = logical
            self._by_name[spec.arn] = logical
        sns = self.client("sns")
        destinations = Destinations(self.client("sqs"), sns, self.invoke_async)
        arns = {logical: spec.arn for logical, spec in self.stack.functions.items()}
        self.async_invoker = AsyncInvoker(self.invoke, self.stack.invoke_configs, arns, destinations, self._stop)
        streams = self.client("dynamodbstreams")
        for source in self.stack.streams:
            poller = StreamPoller(source, streams, self.invoke, self.stack.region, self._stop,
                                  destinations=destinations)
            poller.start()
            self.pollers.append(poller)
        if self.run_schedules and self.stack.schedules:
            Scheduler(self.stack.schedules, self._fire, self._stop).start()
        self.alarms = AlarmWatcher(self.client("cloudwatch"), sns, self.stack.region, self.stack.account,
                                   self._stop)
        self.alarms.start()
        self.ttl = TtlReaper(self.client("dynamodb"), self._stop, interval=self._ttl_interval)
        self.ttl.start()
        site = LocalSite(invoke=self.invoke, outbox=self.outbox, fire_schedule=self.fire_schedule,
                         status=self.status, stage=self.stage)
        api = ApiSettings(stage=self.stack.api_stage, binary_media_types=self.stack.binary_media_types)
        self._http = serve(self.stack.routes, site, self.api_port, api=api)
        threading.Thread(target=self._http.serve_forever, name="api-gateway", daemon=True).start()
        for pool in self.pools.values():  # warm one worker per function in the background
            threading.Thread(target=pool.prewarm, daemon=True).start()

    def _initialise_operational_state(self) -> None:
        """What `foureyes ops init` does after a first deploy: the items the template leaves to ops."""
        from foureyes import operational_state

        metadata = self.stack.source.get("Metadata") or {}
        if operational_state.METADATA_KEY not in metadata:
            return  # a template that leaves nothing to ops
        items = operational_state.declared(metadata, self.stage)
        operational_state.initialise(items, self.client("ssm"), self.client("secretsmanager"))

    def _start_fakes(self) -> None:
        """The ATS fakes on loopback, and their connection settings in the stack's secrets (as ops would)."""
        from foureyes_local.fakes import start_fakes
        from foureyes_local.fakes.graph import start_graph
        from foureyes_local.fakes.hris import start_hris

        self.fakes = start_fakes(seed=self._fake_seed, n=self._fake_records)
        self.graph = start_graph()
        self.hris = start_hris()
        connections = {**self.fakes.credentials(), "graph": self.graph.credentials(), "hris": self.hris.credentials()}
        secrets = self.client("secretsmanager")
        for system, settings in connections.items():
            secret = self.stack.outputs.get(f"{system.capitalize()}ConnectionSecretId")
            if secret:
                secrets.put_secret_value(SecretId=secret, SecretString=json.dumps(settings))

    def stop(self) -> None:
        """Stop everything at once: servers shut down in parallel, workers are killed. Safe to call twice."""
        self._stop.set()
        for pool in self.pools.values():
            pool.close()
        http, moto = self._http, self._moto
        stoppers = [threading.Thread(target=fn, daemon=True) for fn in (
            self.fakes.stop if self.fakes is not None else None,
            self.graph.stop if self.graph is not None else None,
            self.hris.stop if self.hris is not None else None,
            http.shutdown if http is not None else None,
            moto.stop if moto is not None else None) if fn is not None]
        self.fakes = self.graph = self.hris = self._http = self._moto = None
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join(timeout=10)
        if http is not None:
            http.server_close()
        self._unpatch_moto()

    def describe(self) -> dict[str, Any]:
        return {"aws": self.endpoints.aws, "api": self.endpoints.api, "region": self.stack.region,
                "stage": self.stage, "outputs": self.stack.outputs,
                "fakes": {**(self.fakes.urls() if self.fakes is not None else {}),
                          "graph": self.graph.url if self.graph is not None else "",
                          "hris": self.hris.url if self.hris is not None else ""},
                "functions": {logical: spec.name for logical, spec in self.stack.functions.items()}}

    def client(self, service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service, endpoint_url=self.endpoints.aws, region_name="eu-west-1",
            aws_access_key_id="local", aws_secret_access_key="local")

    # ------------------------------------------------------------------ moto, and routing Lambda to workers
    def _start_moto(self) -> None:
        from moto.core.config import default_user_config
        from moto.server import ThreadedMotoServer

        default_user_config["stepfunctions"]["execute_state_machine"] = True
        self._patched.append((os.environ, "MOTO_PORT", os.environ.get("MOTO_PORT"), str(self.aws_port)))
        os.environ["MOTO_PORT"] = str(self.aws_port)  # the ASL interpreter calls Lambda/DynamoDB here
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            os.environ.setdefault(key, "local")
        os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
        self._patch_moto()
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self.aws_port, verbose=False)
        self._moto.start()

    def _patch_moto(self) -> None:
        """Route moto's Lambda Invoke and SNS->Lambda delivery to our workers (moto's would need Docker)."""
        from moto.awslambda.models import LambdaBackend
        from moto.sns.models import Subscription

        cloud = self

        moto_invoke = LambdaBackend.invoke

        def invoke(backend: Any, function_name: str, qualifier: str | None, body: Any, headers: Any,
                   response_headers: Any) -> str | bytes | None:
            try:
                logical = cloud._logical(function_name)
            except KeyError:  # not this stack's: moto answers as Lambda does (ResourceNotFoundException)
                return moto_invoke(backend, function_name, qualifier, body, headers, response_headers)
            event = json.loads(body or b"{}") if body else {}
            if (headers or {}).get("X-Amz-Invocation-Type") == "Event":
                cloud.invoke_async(logical, event)
                return b""
            result = cloud.invoke(logical, event)
            if not result.ok:
                response_headers["x-amz-function-error"] = "Unhandled"
            response_headers["x-amz-executed-version"] = "$LATEST"
            response_headers["Content-Length"] = str(len(result.payload))
            return result.payload

        original_publish = Subscription.publish

        def publish(subscription: Any, message: str, message_id: str, subject: str | None = None,
                    message_attributes: dict[str, Any] | None = None, *args: Any, **kwargs: Any) -> None:
            if subscription.protocol != "lambda":
                original_publish(subscription, message, message_id, subject, message_attributes, *args, **kwargs)
                return
            event = {"Records": [{
                "EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": subscription.arn,
                "Sns": {"Type": "Notification", "MessageId": message_id, "TopicArn": subscription.topic.arn,
                        "Subject": subject, "Message": message,
                        "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z",
                        "MessageAttributes": message_attributes or {}}}]}
            # SNS invokes Lambda asynchronously.
            cloud.invoke_async(cloud._logical(subscription.endpoint), event)

        serialise_dynamodb()
        lock_compliance_retention()
        stop_executions_at_once()
        enforce_role_policies()  # functions' role credentials are checked against their policies
        self._patched += [(LambdaBackend, "invoke", LambdaBackend.invoke, invoke),
                          (Subscription, "publish", Subscription.publish, publish)]
        LambdaBackend.invoke = invoke  # type: ignore[method-assign,assignment]
        Subscription.publish = publish  # type: ignore[method-assign,assignment]

    def _unpatch_moto(self) -> None:
        """Give moto's Lambda and SNS delivery (and MOTO_PORT) back to whoever had them: another local cloud of
        this process keeps working after this one stopped or failed to start."""
        for owner, name, before, ours in reversed(self._patched):
            if owner is os.environ:
                if os.environ.get(name) == ours:
                    if before is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = before
            elif getattr(owner, name) is ours:
                setattr(owner, name, before)
        self._patched = []

    def _logical(self, name_or_arn: str) -> str:
        key = name_or_arn
        if key.startswith("arn:") and key.count(":") > 6:  # a qualified ARN
            key = key.rsplit(":", 1)[0]
        if key in self._by_name:
            return self._by_name[key]
        if key in self.pools:
            return key
        raise KeyError(f"no function {name_or_arn} in this stack")

    def invoke(self, logical: str, event: Any) -> InvokeResult:
        return self.pools[logical].invoke(event)

    def invoke_async(self, function: str, event: Any) -> None:
        """An asynchronous invocation (logical id, name or ARN), with Lambda's retries and destinations."""
        self.async_invoker.submit(self._logical(function), event)

    # ------------------------------------------------------------------ logs -> metrics
    def _on_log_line(self, spec: FunctionSpec, line: str) -> None:
        entries = emf_metrics(line)
        if not entries:
            return
        cloudwatch = self.client("cloudwatch")
        by_namespace: dict[str, list[dict[str, Any]]] = {}
        for entry in entries:
            by_namespace.setdefault(entry.pop("Namespace"), []).append(entry)
        for namespace, data in by_namespace.items():
            cloudwatch.put_metric_data(Namespace=namespace, MetricData=data)

    # ------------------------------------------------------------------ schedules
    def _fire(self, source: ScheduleSource) -> None:
        event = scheduled_event(source, self.stack.region, self.stack.account)
        self.invoke_async(source.function, event)  # EventBridge invokes Lambda asynchronously

    def fire_schedule(self, function: str) -> int:
        sources = [s for s in self.stack.schedules if function in (s.function, self.stack.functions[s.function].name)]
        if not sources:
            raise KeyError(function)
        for source in sources:
            event = scheduled_event(source, self.stack.region, self.stack.account)
            self.invoke(source.function, event)  # synchronously: the caller waits for the run
        return len(sources)

    # ------------------------------------------------------------------ outbox and status
    def reap_expired(self, now: float | None = None) -> dict[str, int]:
        """What DynamoDB's TTL does eventually, now: delete the expired items of the tables with TTL enabled."""
        if self.ttl is None:
            raise RuntimeError("the local cloud is not running")
        return self.ttl.reap_once(now)

    def outbox(self) -> list[dict[str, Any]]:
        from moto.ses.models import RawMessage, ses_backends

        backend = ses_backends[self.stack.account][self.stack.region]
        messages = []
        for sent in list(backend.sent_messages):
            if isinstance(sent, RawMessage):
                parsed = email.message_from_string(sent.raw_data, policy=email.policy.default)
                text_part = parsed.get_body(preferencelist=("plain",))
                html_part = parsed.get_body(preferencelist=("html",))
                text = text_part.get_content() if text_part is not None else ""
                html = html_part.get_content() if html_part is not None else ""
                attachments = [part.get_filename() for part in parsed.iter_attachments()]
                to = list(dict.fromkeys(str(a) for a in sent.destinations)) or [str(parsed.get("To", ""))]
                messages.append({"id": sent.id, "from": str(parsed.get("From", sent.source)), "to": to,
                                 "subject": str(parsed.get("Subject", "")), "text": text, "html": html,
                                 "attachments": attachments, "links": _links(text + " " + html)})
            else:
                to = [a for addresses in sent.destinations.values() for a in addresses]
                body = str(sent.body)
                messages.append({"id": sent.id, "from": sent.source, "to": to, "subject": sent.subject,
                                 "text": body, "html": "", "attachments": [], "links": _links(body)})
        return messages

    def status(self) -> dict[str, Any]:
        return {
            "functions": {logical: {"invocations": pool.invocations, "errors": pool.errors}
                          for logical, pool in self.pools.items()},
            "streams": {p.source.function: {"delivered": p.delivered, "dropped": p.dropped} for p in self.pollers},
            "schedules": [{"function": s.function, "expression": s.expression} for s in self.stack.schedules],
            "alarm_notifications": self.alarms.notifications if self.alarms else 0,
            "ttl_reaped": self.ttl.reaped if self.ttl else 0,
        }


def _links(text: str) -> list[str]:
    seen: dict[str, None] = {}
    for link in LINK.findall(text):
        seen.setdefault(link.rstrip(".,;)"), None)
    return list(seen)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run(args: Any) -> int:
    """`foureyes local` / `make local`: serve until Ctrl-C."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)  # also when started in the background with SIGINT ignored
    started = time.monotonic()
    cloud = LocalCloud(aws_port=args.aws_port, api_port=args.api_port, stage=args.stage,
                       schedules=not args.no_schedules,
                       state_dir=Path(args.state_dir) if args.state_dir else None)
    # Ctrl-C (or SIGTERM) at any moment, even during start-up or the URL lines, stops everything cleanly.
    try:
        try:
            cloud.start()
        except Exception as exc:  # noqa: BLE001 - one clear line, then exit
            print(f"local cloud failed to start: {exc}", file=sys.stderr)
            return 1
        print(f"Foureyes local cloud (stage {cloud.stage}) ready in {time.monotonic() - started:.1f} s", flush=True)
        print(f"AWS: {cloud.endpoints.aws}", flush=True)
        print(f"API: {cloud.endpoints.api}", flush=True)
        print(f"Outbox: {cloud.endpoints.api}/_local/outbox", flush=True)
        print(f"Logs: {cloud.log_dir}", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        while True:
            # Short sleeps: a signal that lands on another thread runs its Python handler only when the
            # main thread next executes bytecode, so a long sleep would swallow Ctrl-C (seen in CI).
            time.sleep(0.2)
    except KeyboardInterrupt:
        print("Stopping ...", flush=True)
    finally:
        cloud.stop()
    return 0
