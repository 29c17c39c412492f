"""The event sources Lambda's own pollers and schedulers drive, which moto does not run without Docker.

- DynamoDB stream -> function: batches, retries, ReportBatchItemFailures, bisect on error, and the on-failure
  destination of a batch given up on.
- Asynchronous invocations (Invoke with InvocationType=Event, SNS, schedules): Lambda's retries, then the
  on-failure destination and dead-letter queue, or the on-success destination.
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
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from foureyes_local.stack import InvokeConfig, ScheduleSource, StreamSource
from foureyes_local.workers import InvokeResult

log = logging.getLogger("foureyes_local")

Invoke = Callable[[str, Any], InvokeResult]

# Lambda waits about 1 and then 2 minutes between the attempts of an asynchronous event; locally, seconds.
ASYNC_RETRY_DELAYS = (1.0, 2.0)


def _timestamp(when: datetime | None = None) -> str:
    """ISO 8601 with milliseconds, as Lambda writes the timestamps of its destination records."""
    return (when or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Destinations:
    """Delivers Lambda's destination records (and dead-letter messages) to SQS queues, SNS topics or functions."""

    def __init__(self, sqs: Any, sns: Any, invoke_async: Callable[[str, Any], None]) -> None:
        self._sqs = sqs
        self._sns = sns
        self._invoke_async = invoke_async

    def send(self, arn: str, body: str, attributes: Mapping[str, str] | None = None) -> None:
        """Send `body` to the queue, topic or function `arn` names (`attributes` as string message attributes)."""
        parts = arn.split(":")
        service, account, name = parts[2], parts[4], parts[5]
        typed = {key: {"DataType": "String", "StringValue": value} for key, value in (attributes or {}).items()}
        if service == "sqs":
            url = self._sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
            self._sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=typed)
        elif service == "sns":
            self._sns.publish(TopicArn=arn, Message=body, MessageAttributes=typed)
        elif service == "lambda":
            self._invoke_async(arn, json.loads(body))
        else:
            raise ValueError(f"no local delivery to {arn}")


def _response_payload(result: InvokeResult) -> Any:
    try:
        return json.loads(result.payload or b"null")
    except json.JSONDecodeError:
        return result.payload.decode("utf-8", "replace")


class AsyncInvoker:
    """Lambda's handling of an asynchronous event: run it; on a function error retry it (MaximumRetryAttempts, within
    MaximumEventAgeInSeconds); then send the record to the on-failure destination and the event to the dead-letter
    queue, or the record of a success to the on-success destination."""

    def __init__(self, invoke: Invoke, configs: Mapping[str, InvokeConfig], function_arns: Mapping[str, str],
                 destinations: Destinations, stop: threading.Event,
                 retry_delays: tuple[float, ...] = ASYNC_RETRY_DELAYS) -> None:
        self._invoke = invoke
        self._configs = configs
        self._arns = function_arns
        self._destinations = destinations
        self._stop = stop
        self._delays = retry_delays
        self.gave_up = 0

    def submit(self, function: str, event: Any) -> None:
        """Queue the event and return at once, as an `Event` invocation does."""
        threading.Thread(target=self.run, args=(function, event), name=f"async-{function}", daemon=True).start()

    def run(self, function: str, event: Any) -> InvokeResult | None:
        """Deliver one event with Lambda's retries; None when the local cloud stopped meanwhile."""
        config = self._configs.get(function) or InvokeConfig()
        received = time.monotonic()
        attempts = 0
        try:
            while True:
                result = self._invoke(function, event)
                attempts += 1
                if result.ok:
                    if config.on_success:
                        self._record(config.on_success, function, event, result, attempts, "Success")
                    return result
                if attempts > config.maximum_retry_attempts:
                    condition = "RetriesExhausted"
                    break
                delay = self._delays[min(attempts, len(self._delays)) - 1]
                if time.monotonic() + delay - received > config.maximum_event_age_seconds:
                    condition = "EventAgeExceeded"
                    break
                if self._stop.wait(delay):
                    return None
            self.gave_up += 1
            log.warning("async invocation of %s failed %d times (%s)", function, attempts, condition)
            if config.on_failure:
                self._record(config.on_failure, function, event, result, attempts, condition)
            if config.dead_letter_arn:
                message = _response_payload(result)
                error = message.get("errorMessage", "") if isinstance(message, dict) else ""
                self._destinations.send(config.dead_letter_arn, json.dumps(event), {
                    "RequestID": result.request_id, "ErrorCode": "200", "ErrorMessage": str(error)[:1024]})
            return result
        except Exception:  # noqa: BLE001 - a lost event is logged, never raised into moto or SNS
            if not self._stop.is_set():
                log.exception("async invocation of %s could not be handled", function)
            return None

    def _record(self, destination: str, function: str, event: Any, result: InvokeResult, attempts: int,
                condition: str) -> None:
        response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if not result.ok:
            response["functionError"] = "Unhandled"
        record = {
            "version": "1.0",
            "timestamp": _timestamp(),
            "requestContext": {"requestId": result.request_id, "functionArn": f"{self._arns[function]}:$LATEST",
                               "condition": condition, "approximateInvokeCount": attempts},
            "requestPayload": event,
            "responseContext": response,
            "responsePayload": _response_payload(result),
        }
        self._destinations.send(destination, json.dumps(record))


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
                 stop: threading.Event, max_local_retries: int = 10, destinations: Destinations | None = None) -> None:
        super().__init__(name=f"stream-{source.function}", daemon=True)
        self.source = source
        self._client = streams_client
        self._invoke = invoke
        self._region = region
        self._stop = stop
        self._iterators: dict[str, str] = {}
        self._pending: list[dict[str, Any]] = []
        self._shard_of: dict[str, str] = {}  # sequence number -> shard, for the on-failure record
        self._last_failure: InvokeResult | None = None
        self._destinations = destinations
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
                if len(self._shard_of) > 10_000:  # forget the shards of records long gone
                    kept = {r["dynamodb"]["SequenceNumber"] for r in self._pending}
                    self._shard_of = {seq: shard for seq, shard in self._shard_of.items() if seq in kept}
                self._shard_of[record["dynamodb"]["SequenceNumber"]] = shard_id
                self._pending.append(record)

    def _deliver(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Invoke with `batch`; return the records to retry (empty when all succeeded)."""
        result = self._invoke(self.source.function, {"Records": batch})
        self._last_failure = result
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
                    self._give_up([retry[0]])
                    self._pending = self._pending[1:]
                    self.dropped += 1
                    self._attempts = 0
                else:
                    self._stop.wait(min(0.2 * 2 ** self._attempts, 5))
            except Exception:  # noqa: BLE001 - a poller must keep polling
                log.exception("stream poller for %s failed; retrying", self.source.function)
                self._stop.wait(1)


    def _give_up(self, records: list[dict[str, Any]]) -> None:
        """Send Lambda's record of the records given up on to the mapping's on-failure destination, if any."""
        destination = self.source.on_failure_destination
        if not destination or self._destinations is None or self._last_failure is None:
            return
        record = stream_failure_record(self.source, records, self._shard_of.get(
            records[0]["dynamodb"]["SequenceNumber"], ""), self._last_failure, self._attempts)
        try:
            self._destinations.send(destination, json.dumps(record))
        except Exception:  # noqa: BLE001 - the poller moves on, as Lambda does when a destination fails
            log.exception("stream %s: the on-failure record could not be sent", self.source.function)


def stream_failure_record(source: StreamSource, records: list[dict[str, Any]], shard_id: str, result: InvokeResult,
                          attempts: int) -> dict[str, Any]:
    """What Lambda sends to a stream mapping's on-failure destination: where the records are, not the records."""
    def arrival(record: dict[str, Any]) -> str:
        created = record["dynamodb"].get("ApproximateCreationDateTime")
        when = datetime.fromtimestamp(float(created), UTC) if created is not None else datetime.now(UTC)
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")

    response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if not result.ok:
        response["functionError"] = "Unhandled"
    return {
        "requestContext": {"requestId": result.request_id, "functionArn": source.function_arn,
                           "condition": "RetryAttemptsExhausted", "approximateInvokeCount": attempts},
        "responseContext": response,
        "version": "1.0",
        "timestamp": _timestamp(),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
            "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
            "approximateArrivalOfFirstRecord": arrival(records[0]),
            "approximateArrivalOfLastRecord": arrival(records[-1]),
            "batchSize": len(records),
            "streamArn": source.stream_arn,
        },
    }


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
        "resources": [source.rule_arn or f"arn:aws:events:{region}:{account}:rule/{source.event_name}"],
        "detail": {},
    }


def next_fire(expression: str, after: float) -> float:
    """The next time (epoch seconds) an EventBridge `rate(...)`, `cron(...)` or (Scheduler) `at(...)` expression fires;
    infinity for an `at(...)` already past."""
    expression = expression.strip()
    if expression.startswith("at(") and expression.endswith(")"):
        when = datetime.fromisoformat(expression[3:-1]).replace(tzinfo=UTC).timestamp()
        return when if when > after else float("inf")
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
