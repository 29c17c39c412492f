"""DynamoDB's Time to Live, which moto does not emulate: a reaper that deletes expired items.

As DynamoDB does, it reaps only tables whose TTL is enabled (the template's `TimeToLiveSpecification`, applied at
deployment), and only items whose TTL attribute is a Number of epoch seconds in the past; an item whose value lies
more than five years in the past is never deleted (DynamoDB ignores such values), nor one with another type.
Each delete is conditional on the item still being expired (an expiry moved later meanwhile keeps it), and goes
through moto like any delete, so the table's stream carries a REMOVE record that the stream pollers deliver.

DynamoDB deletes expired items within days, not at once: readers must treat an item past its expiry as gone
whether or not it was reaped. The local reaper runs every `interval` seconds (and on demand,
`LocalCloud.reap_expired`), so tests see items disappear without waiting for days.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

FIVE_YEARS_SECONDS = 5 * 365 * 86400


class TtlReaper(threading.Thread):
    def __init__(self, dynamodb: Any, stop: threading.Event, *, interval: float = 10.0,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(name="ttl-reaper", daemon=True)
        self._dynamodb = dynamodb
        self._stop = stop
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()  # one pass at a time (the thread's, or one asked for)
        self.reaped = 0

    def run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.reap_once()
            except Exception:  # noqa: BLE001 - moto stopping, a table being created: the next pass tries again
                continue

    def enabled(self) -> dict[str, str]:
        """Table name -> TTL attribute, for every table whose TTL is enabled."""
        found: dict[str, str] = {}
        for page in self._dynamodb.get_paginator("list_tables").paginate():
            for name in page.get("TableNames", []):
                described = self._dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
                if described.get("TimeToLiveStatus") == "ENABLED" and described.get("AttributeName"):
                    found[name] = described["AttributeName"]
        return found

    def reap_once(self, now: float | None = None) -> dict[str, int]:
        """Delete every expired item of every TTL table now; how many per table."""
        with self._lock:
            moment = int(self._clock() if now is None else now)
            counts: dict[str, int] = {}
            for table, attribute in self.enabled().items():
                deleted = self._reap_table(table, attribute, moment)
                if deleted:
                    counts[table] = deleted
            self.reaped += sum(counts.values())
            return counts

    def _reap_table(self, table: str, attribute: str, now: int) -> int:
        keys = [k["AttributeName"] for k in self._dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]]
        names = {"#ttl": attribute, **{f"#k{i}": key for i, key in enumerate(keys)}}
        values = {":now": {"N": str(now)}, ":oldest": {"N": str(now - FIVE_YEARS_SECONDS)}}
        expired = "#ttl < :now AND #ttl >= :oldest"  # a comparison with a Number matches Number values only
        deleted = 0
        for page in self._dynamodb.get_paginator("scan").paginate(
                TableName=table, FilterExpression=expired, ExpressionAttributeNames=names,
                ExpressionAttributeValues=values, ConsistentRead=True,
                ProjectionExpression=", ".join(f"#k{i}" for i in range(len(keys)))):
            for item in page.get("Items", []):
                try:
                    self._dynamodb.delete_item(TableName=table, Key=item, ConditionExpression="#ttl < :now",
                                               ExpressionAttributeNames={"#ttl": attribute},
                                               ExpressionAttributeValues={":now": {"N": str(now)}})
                except self._dynamodb.exceptions.ConditionalCheckFailedException:
                    continue  # its expiry moved later meanwhile
                deleted += 1
        return deleted
