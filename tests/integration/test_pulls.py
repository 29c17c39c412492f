"""Scheduled pulls from the fake ATSes: faults injected, pulls killed at random points, and in the
end the candidates table equals each fake's records: 0 lost, 0 processed twice."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from foureyes_local.client import LocalClient
from foureyes_local.stack import create_table, template_table


def _table_items(client: LocalClient, table: str, system: str) -> dict[str, dict[str, Any]]:
    ddb = client.boto("dynamodb")
    items: dict[str, dict[str, Any]] = {}
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = ddb.scan(**kwargs)
        for item in page["Items"]:
            if item["system"]["S"] == system and item.get("source", {}).get("S") == "pull":
                items[item["record_id"]["S"]] = item
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _fire(client: LocalClient, function: str) -> None:
    reply = requests.post(f"{client.api}/_local/schedules/{function}", timeout=300)
    assert reply.status_code == 202, reply.text


@pytest.mark.parametrize(("system", "function"), [("bullhorn", "PullBullhornFunction"),
                                                  ("otys", "PullOtysFunction"),
                                                  ("carerix", "PullCarerixFunction")])
def test_scheduled_pull_with_faults_equals_the_source(cloud: Any, client: LocalClient, system: str,
                                                      function: str) -> None:
    fakes = cloud.fakes
    if system == "bullhorn":
        fakes.bullhorn.fail_next(429, count=3, retry_after=0.1)
        fakes.bullhorn.fail_next(401, count=1, path_contains="query")
    elif system == "otys":
        fakes.otys.fail_next(103, count=2, method="")  # rate exceeded, arrives as HTTP 200 with an error
    _fire(client, function)
    _fire(client, function)  # a second run finds nothing new and stores nothing again
    source = {str(k): v for k, v in getattr(fakes, system).records().items()}
    stored = _table_items(client, client.outputs["CandidatesTableName"], system)
    assert set(stored) == set(source), f"lost: {set(source) - set(stored)}, extra: {set(stored) - set(source)}"
    assert all(item["writes"]["N"] == "1" for item in stored.values())


@pytest.fixture
def private_tables(cloud: Any, client: LocalClient) -> Iterator[dict[str, str]]:
    """Fresh candidates and checkpoints tables, built from the template's own definitions."""
    ddb = client.boto("dynamodb")
    names = {}
    for logical, variable in (("CandidatesTable", "CANDIDATES_TABLE"), ("CheckpointsTable", "CHECKPOINTS_TABLE")):
        name = f"fi-{uuid.uuid4().hex[:8]}-{logical}"
        create_table(ddb, template_table(logical), name)
        names[variable] = name
    yield names
    for name in names.values():
        ddb.delete_table(TableName=name)


class Killed(BaseException):
    """A pull stopped dead (a crash, a killed worker): not an Exception, so nothing catches it."""


@pytest.mark.parametrize("system", ["bullhorn", "otys", "carerix"])
def test_pulls_killed_at_random_points_lose_nothing_and_repeat_nothing(
        cloud: Any, client: LocalClient, private_tables: dict[str, str], monkeypatch: pytest.MonkeyPatch,
        system: str) -> None:
    from foureyes.ats.registry import adapter_for
    from foureyes.ingest import candidates, pull
    from foureyes_local.fakes import start_fakes

    for variable, value in {**private_tables, "AWS_ENDPOINT_URL": client.aws, "AWS_DEFAULT_REGION": "eu-west-1",
                            "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}.items():
        monkeypatch.setenv(variable, value)
    rng = random.Random(f"kill-{system}")
    with start_fakes(seed=11, n=500) as fakes:
        settings = {**fakes.credentials()[system], "tenant": f"fi-{uuid.uuid4().hex[:6]}"}
        if system == "carerix":
            settings["unavailable_backoff"] = 0.01
            fakes.carerix.unavailable(times=2)
        if system == "bullhorn":
            fakes.bullhorn.fail_next(429, count=2, retry_after=0.05)
        real_save = candidates.save
        calls = {"n": 0, "kill_at": rng.randint(5, 60)}
        kills = 0

        def dying_save(candidate: Any, source: str, version: str | None = None) -> bool:
            calls["n"] += 1
            if calls["n"] == calls["kill_at"]:
                if rng.random() < 0.5:
                    real_save(candidate, source, version)  # killed after the write, before the checkpoint
                raise Killed
            return real_save(candidate, source, version)

        monkeypatch.setattr(candidates, "save", dying_save)
        for _attempt in range(40):
            try:  # the production client (tokens and sessions in the checkpoints table), fresh each run
                result = pull.run(system, lambda: 600_000, client=adapter_for(system).client(settings))
            except Killed:
                kills += 1
                # The next run may die too, somewhere in its first pages, or live.
                calls["n"], calls["kill_at"] = 0, rng.randint(1, 400) if rng.random() < 0.6 else -1
                continue
            if result.complete and result.seen == result.unchanged:
                break  # a full run that found nothing new: caught up
            calls["n"], calls["kill_at"] = 0, -1
        source = {str(k) for k in getattr(fakes, system).records()}
    assert kills >= 1
    ddb = client.boto("dynamodb")
    items = ddb.scan(TableName=private_tables["CANDIDATES_TABLE"], ConsistentRead=True)["Items"]
    stored = {item["record_id"]["S"]: item for item in items}
    assert set(stored) == source, f"lost {len(source - set(stored))}, extra {len(set(stored) - source)}"
    assert [k for k, item in stored.items() if item["writes"]["N"] != "1"] == []
