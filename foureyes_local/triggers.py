"""The event sources Lambda's own pollers and schedulers drive, which moto does not run without Docker.

- DynamoDB stream -> function: batches, retries, ReportBatchItemFailures, bisect on error.
- Schedules: a timer while serving, and `fire()` to run one now.
- CloudWatch alarms: a state change publishes to the alarm's actions (SNS), as CloudWatch does.
- Embedded metric format lines in function logs become CloudWatch metrics, as Lambda's EMF ingest does.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from foureyes_local.stack import ScheduleSource, StreamSource
from foureyes_local.workers import InvokeResult

log = logging.getLogger("foureyes_local")

Invoke = Callable[[str, Any], InvokeResult]


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, bytes):
        import base64

        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [_jsonable(v) for v in value]
    return value


class StreamPoller(threading.Thread):
    """Reads one table stream and invokes the function with batches, as Lambda's poller does."""

    def __init__(self, source: StreamSource, streams_client: Any, invoke: Invoke, region: str,
                 stop: threading.Event, max_local_retries: int = 10) -> None:
        super().__init__(name=f"stream-{source.function}", daemon=True)
        self.source = source
        self._client = streams_client
        self._invoke = invoke
        self._region = region
        self._stop = stop
        self._iterators: dict[str, str] = {}
        self._pending: list[dict[str, Any]] = []
        self._attempts = 0
        retries = source.maximum_retry_attempts
        self._max_retries = max_local_retries if retries < 0 else retries
        self.delivered = 0
        self.dropped = 0

    def _refresh_shards(self) -> None:
        description = self._client.describe_stream(StreamArn=self.source.stream_arn)["StreamDescription"]
        for shard in description.get("Shards", []):
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self._client.get_shard_iterator(
                    StreamArn=self.source.stream_arn, ShardId=shard_id,
                    ShardIteratorType=self.source.starting_position)["ShardIterator"]

    def _fetch(self) -> None:
        for shard_id, iterator in list(self._iterators.items()):
            if iterator is None:
                continue
            response = self._client.get_records(ShardIterator=iterator, Limit=1000)
            self._iterators[shard_id] = response.get("NextShardIterator")
            for record in response.get("Records", []):
                record = _jsonable(record)
                record["eventSourceARN"] = self.source.stream_arn
                record.setdefault("awsRegion", self._region)
                self._pending.append(record)

    def _deliver(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Invoke with `batch`; return the records to retry (empty when all succeeded)."""
        result = self._invoke(self.source.function, {"Records": batch})
        if not result.ok:
            return batch
        if not self.source.report_batch_item_failures:
            return []
        try:
            response = json.loads(result.payload or b"null") or {}
        except json.JSONDecodeError:
            return batch
        failures = response.get("batchItemFailures") if isinstance(response, dict) else None
        if not failures:
            return []
        failed = {str(item.get("itemIdentifier")) for item in failures}
        # Lambda resumes from the lowest failed sequence number: that record and everything after it.
        for index, record in enumerate(batch):
            if record["dynamodb"]["SequenceNumber"] in failed:
                return batch[index:]
        return batch  # an identifier not in the batch: Lambda treats the whole batch as failed

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self._refresh_shards()
                if not self._pending:
                    self._fetch()
                if not self._pending:
                    self._stop.wait(0.2)
                    continue
                batch = self._pending[: self.source.batch_size]
                retry = self._deliver(batch)
                delivered = len(batch) - len(retry)
                self.delivered += delivered
                if not retry:
                    self._pending = self._pending[len(batch):]
                    self._attempts = 0
                    continue
                self._pending = retry + self._pending[len(batch):]
                self._attempts += 1
                if self.source.bisect_on_error and len(retry) > 1 and delivered == 0:
                    # Retry the first half alone: isolates a poison record as Lambda's bisect does.
                    half = len(retry) // 2
                    rest = self._deliver(retry[:half])
                    if not rest:
                        self._pending = self._pending[half:]
                        self.delivered += half
                        continue
                if self._attempts > self._max_retries:
                    log.error("stream %s: dropping record %s after %d attempts", self.source.function,
                              retry[0]["dynamodb"]["SequenceNumber"], self._attempts)
                    self._pending = self._pending[1:]
                    self.dropped += 1
                    self._attempts = 0
                else:
                    self._stop.wait(min(0.2 * 2 ** self._attempts, 5))
            except Exception:  # noqa: BLE001 - a poller must keep polling
                log.exception("stream poller for %s failed; retrying", self.source.function)
                self._stop.wait(1)


def scheduled_event(source: ScheduleSource, region: str, account: str) -> Any:
    if source.input:
        return json.loads(source.input)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{account}:rule/{source.function}-{source.event_name}"],
        "detail": {},
    }


def next_fire(expression: str, after: float) -> float:
    """The next time (epoch seconds) an EventBridge `rate(...)` or `cron(...)` expression fires."""
    expression = expression.strip()
    if expression.startswith("rate(") and expression.endswith(")"):
        amount, unit = expression[5:-1].split()
        seconds = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}[unit]
        return after + int(amount) * seconds
    if expression.startswith("cron(") and expression.endswith(")"):
        from croniter import croniter

        fields = expression[5:-1].split()
        if len(fields) != 6:
            raise ValueError(f"cron expression needs 6 fields: {expression}")
        minute, hour, dom, month, dow, _year = fields
        spec = " ".join(f.replace("?", "*") for f in (minute, hour, dom, month, dow))
        return float(croniter(spec, datetime.fromtimestamp(after, UTC)).get_next(float))
    raise ValueError(f"unsupported schedule expression: {expression}")


class Scheduler(threading.Thread):
    def __init__(self, sources: list[ScheduleSource], fire: Callable[[ScheduleSource], None],
                 stop: threading.Event) -> None:
        super().__init__(name="scheduler", daemon=True)
        self._fire = fire
        self._stop = stop
        now = time.time()
        self._next = {source: next_fire(source.expression, now) for source in sources if source.enabled}

    def run(self) -> None:
        while not self._stop.wait(1):
            now = time.time()
            for source, when in list(self._next.items()):
                if when <= now:
                    self._next[source] = next_fire(source.expression, now)
                    self._fire(source)


class AlarmWatcher(threading.Thread):
    """Evaluates the alarms (metric math included) every second and, on a state change, publishes to the
    alarm's SNS actions, as CloudWatch does. Actions fire on transitions only, never while a state holds."""

    def __init__(self, cloudwatch: Any, sns: Any, region: str, account: str, stop: threading.Event) -> None:
        super().__init__(name="alarms", daemon=True)
        self._cloudwatch = cloudwatch
        self._sns = sns
        self._region = region
        self._account = account
        self._stop = stop
        self._states: dict[str, str] = {}
        self.notifications = 0

    def run(self) -> None:
        while not self._stop.wait(1):
            try:
                self.check()
            except Exception:  # noqa: BLE001
                log.exception("alarm watcher failed; retrying")

    def check(self) -> None:
        for alarm in self._cloudwatch.describe_alarms()["MetricAlarms"]:
            self._transition(alarm, alarm["StateValue"])  # a state set by hand (set_alarm_state) counts too
            evaluated = evaluate_alarm(self._cloudwatch, alarm)
            if evaluated is not None and evaluated != alarm["StateValue"]:
                reason = f"Threshold crossed: the local cloud evaluated the alarm as {evaluated}"
                self._cloudwatch.set_alarm_state(AlarmName=alarm["AlarmName"], StateValue=evaluated,
                                                 StateReason=reason)
                self._transition({**alarm, "StateReason": reason}, evaluated)

    def _transition(self, alarm: dict[str, Any], state: str) -> None:
        name = alarm["AlarmName"]
        previous = self._states.get(name, "INSUFFICIENT_DATA")
        self._states[name] = state
        if state == previous or not alarm.get("ActionsEnabled", True):
            return
        actions = {"ALARM": "AlarmActions", "OK": "OKActions", "INSUFFICIENT_DATA": "InsufficientDataActions"}[state]
        message = json.dumps({
            "AlarmName": name, "AlarmDescription": alarm.get("AlarmDescription"), "AWSAccountId": self._account,
            "NewStateValue": state, "NewStateReason": alarm.get("StateReason", ""),
            "StateChangeTime": datetime.now(UTC).isoformat(), "Region": self._region,
            "AlarmArn": alarm.get("AlarmArn"), "OldStateValue": previous,
        })
        for action in alarm.get(actions, []):
            if action.startswith("arn:aws:sns:"):
                self._sns.publish(TopicArn=action, Subject=f'{state}: "{name}"'[:100], Message=message)
                self.notifications += 1


_COMPARE = {
    "GreaterThanThreshold": lambda v, t: v > t, "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "LessThanThreshold": lambda v, t: v < t, "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}


def _statistic(cloudwatch: Any, namespace: str, name: str, dimensions: list[dict[str, str]], period: int,
               stat: str) -> float | None:
    end = datetime.now(UTC)
    points = cloudwatch.get_metric_statistics(
        Namespace=namespace, MetricName=name, Dimensions=dimensions, StartTime=end - timedelta(seconds=period),
        EndTime=end + timedelta(seconds=60), Period=period, Statistics=[stat])["Datapoints"]
    if not points:
        return None
    values = [float(p[stat]) for p in points]
    if stat in ("Sum", "SampleCount"):
        return sum(values)
    if stat == "Maximum":
        return max(values)
    if stat == "Minimum":
        return min(values)
    return sum(values) / len(values)


def evaluate_alarm(cloudwatch: Any, alarm: dict[str, Any]) -> str | None:
    """ALARM or OK for the alarm's current window (None when the local cloud cannot evaluate it)."""
    compare = _COMPARE.get(alarm.get("ComparisonOperator", ""))
    if compare is None:
        return None
    threshold = float(alarm["Threshold"])
    if alarm.get("Metrics"):
        values: dict[str, float | None] = {}
        expression = None
        for metric in alarm["Metrics"]:
            if "MetricStat" in metric:
                stat = metric["MetricStat"]
                values[metric["Id"]] = _statistic(
                    cloudwatch, stat["Metric"]["Namespace"], stat["Metric"]["MetricName"],
                    stat["Metric"].get("Dimensions", []), int(stat["Period"]), stat["Stat"])
            if metric.get("ReturnData", True) and "Expression" in metric:
                expression = metric["Expression"]
        if all(v is None for v in values.values()):
            return "OK" if alarm.get("TreatMissingData") in ("notBreaching", "ignore") else None
        scope = {k: (v or 0.0) for k, v in values.items()}
        value = metric_math(expression, scope) if expression else next(iter(scope.values()))
    else:
        measured = _statistic(cloudwatch, alarm["Namespace"], alarm["MetricName"], alarm.get("Dimensions", []),
                              int(alarm["Period"]), alarm.get("Statistic", "Sum"))
        if measured is None:
            return "OK" if alarm.get("TreatMissingData") in ("notBreaching", "ignore") else None
        value = measured
    return "ALARM" if compare(value, threshold) else "OK"


def metric_math(expression: str, scope: dict[str, float]) -> float:
    """The subset of CloudWatch metric math the template uses: numbers, ids, + - * /, comparisons and
    IF(condition, then, else), evaluated lazily so IF guards a division by zero."""
    import ast

    tree = ast.parse(expression.replace("IF(", "IF_(").replace(" AND ", " and ").replace(" OR ", " or "),
                     mode="eval")

    def value(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.Name) and node.id in scope:
            return scope[node.id]
        if isinstance(node, ast.BinOp):
            left, right = value(node.left), value(node.right)
            if isinstance(node.op, ast.Add):
                return left + right
            if isinstance(node.op, ast.Sub):
                return left - right
            if isinstance(node.op, ast.Mult):
                return left * right
            if isinstance(node.op, ast.Div):
                return left / right if right else float("nan")
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            left, right = value(node.left), value(node.comparators[0])
            tests = {ast.Gt: left > right, ast.GtE: left >= right, ast.Lt: left < right, ast.LtE: left <= right,
                     ast.Eq: left == right, ast.NotEq: left != right}
            return 1.0 if tests[type(node.ops[0])] else 0.0
        if isinstance(node, ast.BoolOp):
            results = [value(v) for v in node.values]
            return 1.0 if (all(results) if isinstance(node.op, ast.And) else any(results)) else 0.0
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "IF_":
            condition, then, otherwise = node.args
            return value(then) if value(condition) else value(otherwise)
        raise ValueError(f"metric math the local cloud does not evaluate: {ast.dump(node)[:80]}")

    return value(tree.body)


def emf_metrics(line: str) -> list[dict[str, Any]]:
    """MetricData entries for put_metric_data from one embedded-metric-format log line (else [])."""
    line = line.strip()
    if not line.startswith("{") or '"_aws"' not in line:
        return []
    try:
        document = json.loads(line)
    except json.JSONDecodeError:
        return []
    meta = document.get("_aws") or {}
    timestamp = datetime.fromtimestamp(meta.get("Timestamp", time.time() * 1000) / 1000, UTC)
    entries: list[dict[str, Any]] = []
    for directive in meta.get("CloudWatchMetrics", []):
        namespace = directive.get("Namespace")
        for dimension_set in directive.get("Dimensions", [[]]):
            dimensions = [{"Name": d, "Value": str(document[d])} for d in dimension_set if d in document]
            for metric in directive.get("Metrics", []):
                value = document.get(metric["Name"])
                values = value if isinstance(value, list) else [value]
                for item in values:
                    if isinstance(item, int | float):
                        entries.append({"Namespace": namespace, "MetricName": metric["Name"],
                                        "Dimensions": dimensions, "Value": float(item), "Timestamp": timestamp,
                                        "Unit": metric.get("Unit", "None")})
    return entries
