"""Personal data on the local cloud: encrypted at rest, erased through four eyes, exported on request.

One person has two records (an interview booked on one of them) and a namesake; before the erasure no table holds
their e-mail address, phone number or name in any form; an access request gives them back opened; after `foureyes
ops erase` and two approvals through the real review links, every table of the stack is scanned again (all items,
all attributes, nested JSON text too) for every form of them and for their keyed match keys: nothing. Their data
keys are gone, the namesake is still readable, and a re-sent webhook of an erased record stores nothing."""

from __future__ import annotations

import json
import os
import random
import re
import stat
import subprocess
import sys
import unicodedata
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import requests

from foureyes.matching.normalize import canonical_email
from foureyes.matching.score import blocking_keys, normalize_record
from foureyes.model import Candidate
from foureyes_local.client import NONCE, LocalClient, plain, wait_for

ROOT = Path(__file__).resolve().parents[2]


def _ops(cloud: Any, *args: str) -> subprocess.CompletedProcess[str]:
    endpoints = Path(cloud.state_dir) / "endpoints.json"
    return subprocess.run([sys.executable, "-m", "foureyes_cli.main", "ops", "--local", str(endpoints), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=180)


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _values(value: Any) -> Iterator[str]:
    """Every text inside a value: strings, numbers as text, nested lists/maps, and JSON held as text, opened."""
    if isinstance(value, str):
        yield value
        if value[:1] in "{[":
            try:
                yield from _values(json.loads(value))
            except ValueError:
                pass
    elif isinstance(value, bytes | bytearray):
        yield value.decode("latin-1")
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield str(key)
            yield from _values(inner)
    elif isinstance(value, list | tuple | set | frozenset):
        for inner in value:
            yield from _values(inner)
    elif value is not None:
        yield str(value)


def _scan(client: LocalClient, needles: set[str]) -> list[tuple[str, str]]:
    """(table, needle) for every needle found in any attribute of any item of any table of the stack, compared
    case-folded and accent-stripped, and once more without separators (phone numbers written any way)."""
    ddb = client.boto("dynamodb")
    folded = {_strip_accents(n.casefold()) for n in needles}
    found: list[tuple[str, str]] = []
    for table in ddb.list_tables()["TableNames"]:
        for page in ddb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
            for item in page["Items"]:
                for text in _values(plain(item)):
                    text = _strip_accents(text.casefold())
                    bare = re.sub(r"[\s().\-/]", "", text)
                    found.extend((table, n) for n in folded if n in text or n in bare)
    return found


class Person:
    """One person's identifiers in every form a table could hold them."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.first, self.last = "Ilsë", f"Brëukink{tag}"
        self.email = f"Ilse.Breukink.{tag}+cv@GMail.com"
        digits = "".join(random.choice("0123456789") for _ in range(8))  # noqa: S311 - test data
        self.mobile = f"06-{digits[:4]} {digits[4:]}"
        self.nsn = f"6{digits}"  # the national significant number: in E.164, national and digits-only forms
        self.dob = date(1992, 6, 14)

    def needles(self) -> set[str]:
        return {self.email, self.email.lower(), canonical_email(self.email) or "", f"ilse.breukink.{self.tag}",
                f"+31{self.nsn}", f"31{self.nsn}", f"0{self.nsn}", self.nsn, self.mobile,
                self.last, _strip_accents(self.last), f"{self.first} {self.last}"}

    def record(self, record_id: str, **extra: Any) -> dict[str, Any]:
        return {"id": record_id, "first_name": self.first, "last_name": self.last, "emails": [self.email],
                "phones": [self.mobile], "date_of_birth": self.dob.isoformat(), "employer": f"Brouwerij {self.tag}",
                **extra}

    def candidate(self, system: str, record_id: str) -> Candidate:
        return Candidate(system, record_id, first_name=self.first, last_name=self.last, emails=(self.email,),
                         phones=(self.mobile,), dob=self.dob, employer=f"Brouwerij {self.tag}")


def _items(client: LocalClient, output: str) -> list[dict[str, Any]]:
    ddb = client.boto("dynamodb")
    return [plain(item) for page in ddb.get_paginator("scan").paginate(TableName=client.outputs[output],
                                                                       ConsistentRead=True) for item in page["Items"]]


def _invitation(client: LocalClient, email: str) -> dict[str, Any]:
    return client.mail_for(lambda m: email.lower() in [t.lower() for t in m["to"]]
                           and m["subject"] == "Plan your interview", "the interview invitation", timeout=90)


def _contest(client: LocalClient, person: Person, ref: str) -> dict[str, Any]:
    """The candidate objects, from the invitation's link, in words that repeat their own details."""
    link = next(u for u in _invitation(client, person.email)["links"] if "/contest/" in u)
    nonce = NONCE.search(requests.get(link, timeout=30).text)
    assert nonce is not None
    sent = requests.post(link, timeout=30, data={
        "nonce": nonce.group(1), "choice": "other",
        "text": f"I am {person.first} {person.last}, reach me at {person.email} or {person.mobile}."})
    assert sent.status_code == 200, sent.text
    return wait_for("the contest", lambda: next(
        (p for p in client.proposals() if p["action"] == "contest" and p["refs"] == [ref]), None))


def _book(client: LocalClient, email: str) -> str:
    invite = _invitation(client, email)
    link = next(u for u in invite["links"] if "/book/" in u)
    slot = re.findall(r'name="slot" id="[^"]+" value="([^"]+)"', requests.get(link, timeout=30).text)[0]
    requests.post(link, data={"action": "hold", "slot": slot}, timeout=30).raise_for_status()
    done = requests.post(link, data={"action": "confirm", "slot": slot}, timeout=30, allow_redirects=False)
    assert done.status_code == 303, done.text
    return link


def test_personal_data_is_sealed_at_rest_erased_by_four_eyes_and_exported_on_request(
        cloud: Any, client: LocalClient, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:8]
    person = Person(tag)
    a, b, c = f"carerix:dsr{tag}a", f"otys:dsr{tag}b", f"otys:dsr{tag}c"
    # a: interview stage (a request and a booking); b: the same person in another ATS (a hard match, a proposal);
    # c: a namesake born the same year, other contact details (a near-miss with a), who is not erased.
    client.post_webhook("carerix", f"dsr-{tag}-1", person.record(
        f"dsr{tag}a", status="Interview", role_id="R-1001", time_zone="Europe/Amsterdam")).raise_for_status()
    client.post_webhook("otys", f"dsr-{tag}-2", person.record(f"dsr{tag}b")).raise_for_status()
    namesake = {"id": f"dsr{tag}c", "first_name": person.first, "last_name": person.last,
                "emails": [f"andere.{tag}@example.org"], "date_of_birth": "1992-01-30"}
    client.post_webhook("otys", f"dsr-{tag}-3", namesake).raise_for_status()

    merge = client.proposal_for(a, timeout=90)
    assert set(merge["refs"]) == {a, b}
    wait_for("a near-miss naming the erased record", lambda: [
        n for n in _items(client, "NearMissesTableName") if a in n["pair"].split("|")], timeout=90)
    booking_link = _book(client, person.email)
    booking = wait_for("the booking", lambda: next((x for x in client.bookings() if x["candidate_ref"] == a), None))
    events = {str(e) for e in json.loads(booking.get("events") or "{}").values()}
    contest = _contest(client, person, a)  # it holds the merge; its statement names them (stored sealed)
    assert client.proposal(merge["proposal_id"])["held_by"] == contest["proposal_id"]

    # Encrypted at rest: not one table holds any form of the e-mail address, phone number or name ...
    assert _scan(client, person.needles()) == []
    # ... while the records, their keys and their keyed match keys are there (so the scan below can find them).
    secret = client.boto("secretsmanager").get_secret_value(
        SecretId=client.outputs["MatchKeySecretArn"])["SecretString"].encode()
    mine = set(blocking_keys(normalize_record(person.candidate("carerix", f"dsr{tag}a")), secret=secret))
    namesakes = set(blocking_keys(normalize_record(Candidate("otys", f"dsr{tag}c", first_name=person.first,
                                                             last_name=person.last, dob=date(1992, 1, 30))),
                                  secret=secret))
    index = _items(client, "MatchKeysTableName")
    assert mine <= {i["match_key"] for i in index if i["ref"] == a}
    assert not any(person.email.lower() in i["match_key"] for i in index)
    keys = {i["ref"]: i for i in _items(client, "DataKeysTableName")}
    assert keys[a]["wrapped"] and keys[b]["wrapped"] and keys[c]["wrapped"]

    # Access request: one document, opened, with the audit rows about the record.
    out = tmp_path / "export-a.json"
    exported = _ops(cloud, "export", a, "--out", str(out), "--operator", f"dpo-{tag}")
    assert exported.returncode == 0, exported.stderr
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    document = json.loads(out.read_text())
    assert document["candidate"]["personal"]["emails"] == [person.email]
    assert document["candidate"]["personal"]["phones"] == [person.mobile]
    assert document["interview_requests"][0]["candidate_email"] == person.email
    assert document["interview_requests"][0]["bookings"][0]["booking_id"] == booking["booking_id"]
    assert {p["proposal_id"] for p in document["proposals"]} >= {merge["proposal_id"]}
    assert {row["event"] for row in document["audit"]} >= {"candidate.ingested", "proposal.created"}
    unknown = _ops(cloud, "export", f"carerix:nobody{tag}")
    assert unknown.returncode == 1 and "holds nothing" in unknown.stderr and "Traceback" not in unknown.stderr

    # The erasure: proposed by an operator, approved by two different people through the real review links.
    operator = f"olivia-{tag}"
    for bad, said in ((("nonsense",), "not a record ref"), ((f"otys:nobody{tag}",), "holds nothing about")):
        refused_cli = _ops(cloud, "erase", *bad, "--reason", "ticket", "--operator", operator)
        assert refused_cli.returncode == 2 and said in refused_cli.stderr and "Traceback" not in refused_cli.stderr
    proposed = _ops(cloud, "erase", a, b, "--reason", f"ticket DSR-{tag}", "--operator", operator)
    assert proposed.returncode == 0, proposed.stderr
    pid = re.search(r"erasure proposed as (\w+)", proposed.stdout).group(1)  # type: ignore[union-attr]
    review, reviewer = client.review_link(pid, "review", timeout=60)
    page = requests.get(review, timeout=30).text
    assert "This cannot be undone" in page and "does not delete" in page
    assert person.email in page  # the reviewer checks whose records these are (opened for the page only)
    refused = client.decide(review, "approve", reason="same_person")
    assert refused.status_code == 400  # a match's reason does not fit an erasure
    assert client.decide(review, "approve", reason="erasure_verified").status_code == 200
    approve, approver = client.review_link(pid, "second approval", timeout=60)
    assert approver != reviewer
    assert client.decide(approve, "approve", reason="erasure_verified").status_code == 200
    wait_for("the erasure to be executed", lambda: client.proposal(pid)["status"] == "executed", timeout=120)

    # Nothing of them is left in any table: no form of the address, number or name, no keyed match key of theirs
    # (the namesake's share of the name key stays, filed under the namesake only).
    theirs = mine - namesakes
    assert theirs, "the person's own match keys (e-mail, phone, name with birth date)"
    assert _scan(client, person.needles() | theirs | {k.split(":", 1)[1] for k in theirs}) == []
    assert not [i for i in _items(client, "MatchKeysTableName") if i["ref"] in (a, b)]
    assert not [n for n in _items(client, "NearMissesTableName") if {a, b} & set(n["pair"].split("|"))]
    assert not [x for x in _items(client, "CandidatesTableName") if x["ref"] in (a, b)]
    assert not [x for x in client.bookings() if x["candidate_ref"] == a]
    assert not [x for x in _items(client, "InterviewRequestsTableName") if x["candidate_ref"] == a]
    assert not [e for e in cloud.graph.live_events() if str(e.get("id")) in events]
    keys = {i["ref"]: i for i in _items(client, "DataKeysTableName")}
    assert "wrapped" not in keys[a] and "wrapped" not in keys[b] and keys[a]["erased_at"]  # the keys are gone
    assert keys[c]["wrapped"]
    withdrawn = client.proposal(merge["proposal_id"])
    assert withdrawn["status"] == "withdrawn" and json.loads(withdrawn["payload"])["erased"] is True
    assert "[erased]" == withdrawn["reasoning"]
    contested = client.proposal(contest["proposal_id"])  # the contest ends with the record: withdrawn, no words
    assert contested["status"] == "withdrawn" and "contest_statements" not in contested
    audit = [plain(i) for i in client.boto("dynamodb").scan(TableName=client.outputs["AuditTableName"])["Items"]]
    executed = [r for r in audit if r["event"] == "erase.executed" and r["subject"] == pid]
    assert len(executed) == 1 and json.loads(executed[0]["details"])["deleted"]["candidates"] == 2
    assert [r["actor"] for r in audit if r["event"] == "erase.proposed" and r["subject"] == pid] == [operator]
    assert requests.get(booking_link, timeout=30).status_code in (404, 410, 401, 403)

    # The namesake is still there and readable; the erased record says it was erased.
    other = _ops(cloud, "export", c)
    assert other.returncode == 0, other.stderr
    assert json.loads(other.stdout)["candidate"]["personal"]["last_name"] == person.last
    gone = _ops(cloud, "export", a)
    assert gone.returncode == 1 and "was erased on" in gone.stderr

    # The ATS sends the erased record again (a newer version, a new delivery): nothing is stored.
    again = client.post_webhook("carerix", f"dsr-{tag}-4", person.record(
        f"dsr{tag}a", status="Interview", role_id="R-1001", lastModifiedAt="2099-01-01T00:00:00Z"))
    assert again.status_code == 202, again.text
    wait_for("the skipped re-import in the audit trail", lambda: [
        r for r in (plain(i) for i in client.boto("dynamodb").scan(
            TableName=client.outputs["AuditTableName"])["Items"])
        if r["event"] == "ingest.skipped_erased" and r["subject"] == a], timeout=30)
    assert not [x for x in _items(client, "CandidatesTableName") if x["ref"] == a]
    assert _scan(client, person.needles()) == []
