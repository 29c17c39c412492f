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
from datetime import UTC, datetime
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
    """Publishes alarm state changes to the alarm's SNS actions, as CloudWatch does."""

    def __init__(self, cloudwatch: Any, sns: Any, region: str, account: str, stop: threading.Event,
                 evaluate: Callable[[dict[str, Any]], str | None] | None = None) -> None:
        super().__init__(name="alarms", daemon=True)
        self._cloudwatch = cloudwatch
        self._sns = sns
        self._region = region
        self._account = account
        self._stop = stop
        self._evaluate = evaluate
        self._states: dict[str, str] = {}
        self.notifications = 0

    def run(self) -> None:
        while not self._stop.wait(1):
            try:
                self.check()
            except Exception:  # noqa: BLE001
                log.exception("alarm watcher failed; retrying")

    def check(self) -> None:
        alarms = self._cloudwatch.describe_alarms()["MetricAlarms"]
        for alarm in alarms:
            name = alarm["AlarmName"]
            if self._evaluate is not None:
                new_state = self._evaluate(alarm)
                if new_state and new_state != alarm["StateValue"]:
                    self._cloudwatch.set_alarm_state(AlarmName=name, StateValue=new_state,
                                                     StateReason="Threshold crossed (local evaluation)")
                    alarm = self._cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
            state = alarm["StateValue"]
            previous = self._states.get(name, "INSUFFICIENT_DATA")
            self._states[name] = state
            if state == previous:
                continue
            actions = {"ALARM": "AlarmActions", "OK": "OKActions",
                       "INSUFFICIENT_DATA": "InsufficientDataActions"}[state]
            if not alarm.get("ActionsEnabled", True):
                continue
            message = json.dumps({
                "AlarmName": name,
                "AlarmDescription": alarm.get("AlarmDescription"),
                "AWSAccountId": self._account,
                "NewStateValue": state,
                "NewStateReason": alarm.get("StateReason", ""),
                "StateChangeTime": datetime.now(UTC).isoformat(),
                "Region": self._region,
                "AlarmArn": alarm.get("AlarmArn"),
                "OldStateValue": previous,
            })
            for action in alarm.get(actions, []):
                if action.startswith("arn:aws:sns:"):
                    self._sns.publish(TopicArn=action, Subject=f'{state}: "{name}"'[:100], Message=message)
                    self.notifications += 1


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
