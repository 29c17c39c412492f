"""The matcher Lambda on the local cloud: proposals once, near-misses promoted on resurfacing."""

from __future__ import annotations

import time

from foureyes_local.client import LocalClient, wait_for


def _count(client: LocalClient, ref: str) -> int:
    return sum(1 for p in client.proposals() if ref in p["refs"])


def _settle(client: LocalClient) -> None:
    """Wait until the stream poller has delivered everything written so far."""
    time.sleep(1.5)


def test_the_same_pair_is_proposed_once_while_open(client: LocalClient) -> None:
    person = {"first_name": "Bram", "last_name": "Smits", "date_of_birth": "1984-08-08",
              "phones": ["06 3921 7754"]}
    client.post_webhook("carerix", "idem-delivery-1", {**person, "id": "idem1", "emails": ["bram@smits-bouw.nl"]})
    client.post_webhook("otys", "idem-delivery-2", {**person, "id": "idem2", "emails": ["b.smits@gmail.com"]})
    proposal = client.proposal_for("carerix:idem1")
    assert proposal["action"] == "merge_candidates" and set(proposal["evidence"]) >= {"phone:exact", "name:exact"}
    # The ATS sends the same record again (a new delivery) and an unrelated edit: nothing new is proposed.
    client.post_webhook("otys", "idem-delivery-3", {**person, "id": "idem2", "emails": ["b.smits@gmail.com"]})
    client.post_webhook("otys", "idem-delivery-4", {**person, "id": "idem2", "emails": ["b.smits@gmail.com"],
                                                    "status": "available"})
    _settle(client)
    assert _count(client, "carerix:idem1") == 1


def test_a_rejected_pair_returns_only_when_its_evidence_changes(client: LocalClient) -> None:
    base = {"first_name": "Lotte", "last_name": "Mulder", "date_of_birth": "1990-01-20"}
    client.post_webhook("otys", "rej-delivery-1", {**base, "id": "rej1", "emails": ["lotte.mulder@gmail.com"]})
    client.post_webhook("otys", "rej-delivery-2", {**base, "id": "rej2", "emails": ["l.o.t.t.e.mulder@gmail.com"]})
    first = client.proposal_for("otys:rej1")
    pid = first["proposal_id"]
    for stage in ("review", "second approval"):
        link, _ = client.review_link(pid, stage)
        assert client.decide(link, "reject", "different_people").status_code == 200
    wait_for("the rejection", lambda: client.proposal(pid)["status"] == "rejected")
    client.post_webhook("otys", "rej-delivery-3", {**base, "id": "rej2", "emails": ["l.o.t.t.e.mulder@gmail.com"],
                                                   "status": "edited"})
    _settle(client)
    assert _count(client, "otys:rej1") == 1  # same evidence: the humans' "no" stands
    client.post_webhook("otys", "rej-delivery-4", {**base, "id": "rej2", "emails": ["l.o.t.t.e.mulder@gmail.com"],
                                                   "phones": ["+31 6 2233 4455"]})
    client.post_webhook("otys", "rej-delivery-5", {**base, "id": "rej1", "emails": ["lotte.mulder@gmail.com"],
                                                   "phones": ["0031 6 2233 4455"]})
    wait_for("a new proposal on new evidence", lambda: _count(client, "otys:rej1") == 2)


def test_a_near_miss_is_logged_and_promoted_when_it_resurfaces(client: LocalClient) -> None:
    ddb = client.boto("dynamodb")
    near_misses = next(t for t in ddb.list_tables()["TableNames"] if "NearMisses" in t)
    base = {"first_name": "Willem", "last_name": "van den Berg"}
    client.post_webhook("carerix", "nm-delivery-1",
                        {**base, "id": "nm1", "emails": ["willem@vdberg-advies.nl"], "date_of_birth": "1976-12-01"})
    base["date_of_birth"] = "1976-03-14"  # same name and year of birth, another day: a near-miss
    client.post_webhook("otys", "nm-delivery-2", {**base, "id": "nm2", "emails": ["w.vandenberg@hotmail.com"]})
    pair = "carerix:nm1|otys:nm2"
    wait_for("the near-miss log entry", lambda: ddb.get_item(TableName=near_misses, Key={"pair": {"S": pair}})
             .get("Item"))
    assert _count(client, "carerix:nm1") == 0  # name + year of birth alone is not enough to propose
    client.post_webhook("otys", "nm-delivery-3", {**base, "id": "nm2", "emails": ["w.vandenberg@hotmail.com"],
                                                  "employer": "Gemeente Utrecht"})
    promoted = client.proposal_for("carerix:nm1")
    assert promoted["action"] == "tag_duplicate"
    item = ddb.get_item(TableName=near_misses, Key={"pair": {"S": pair}})["Item"]
    assert item["promoted"]["BOOL"] is True and int(item["expires_at"]["N"]) > time.time() + 29 * 86400
