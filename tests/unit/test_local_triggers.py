from __future__ import annotations

import json
from datetime import UTC, datetime

from foureyes_local.triggers import emf_metrics, next_fire


def test_rate_and_cron_schedules() -> None:
    start = datetime(2026, 3, 1, 1, 30, tzinfo=UTC).timestamp()
    assert next_fire("rate(5 minutes)", start) == start + 300
    assert datetime.fromtimestamp(next_fire("cron(0 2 * * ? *)", start), UTC) == datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def test_a_one_time_scheduler_expression_fires_once() -> None:
    start = datetime(2026, 3, 1, 1, 30, tzinfo=UTC).timestamp()
    assert next_fire("at(2026-03-01T02:00:00)", start) == start + 1800
    assert next_fire("at(2026-03-01T01:00:00)", start) == float("inf")


def test_emf_lines_become_metric_data() -> None:
    line = json.dumps({"_aws": {"Timestamp": 1767225600000, "CloudWatchMetrics": [{
        "Namespace": "Foureyes", "Dimensions": [["service", "system"]],
        "Metrics": [{"Name": "DispatchErrors", "Unit": "Count"}]}]},
        "service": "foureyes", "system": "otys", "DispatchErrors": [1.0, 2.0]})
    entries = emf_metrics(line)
    assert [e["Value"] for e in entries] == [1.0, 2.0]
    assert entries[0]["Dimensions"] == [{"Name": "service", "Value": "foureyes"}, {"Name": "system", "Value": "otys"}]
    assert emf_metrics('{"level": "INFO"}') == [] and emf_metrics("START RequestId") == []


def test_metric_math_as_the_alarms_use_it() -> None:
    from foureyes_local.triggers import metric_math

    expression = "IF(attempts >= 20, errors / attempts, 0)"
    assert metric_math(expression, {"attempts": 0.0, "errors": 0.0}) == 0.0  # no division by zero
    assert metric_math(expression, {"attempts": 10.0, "errors": 9.0}) == 0.0  # too few attempts to judge
    assert metric_math(expression, {"attempts": 40.0, "errors": 2.0}) == 0.05
