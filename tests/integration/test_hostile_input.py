"""Every public route answers hostile input with a 4xx, never a 5xx (issue 11, item 8), over real HTTP to the
local cloud: each page route with a genuine link (so the input meets the code behind the link check) and with a
garbage one, and each webhook with signed hostile bodies and hostile signature headers.

Hostile here: oversized and undecodable bodies, deep JSON and huge numbers, wrong content types, forms with
thousands of fields or megabyte values, control characters, huge headers and query strings.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from foureyes import links
from foureyes.ingest.webhooks import sign
from foureyes_local.client import LocalClient, wait_for

FORM = "application/x-www-form-urlencoded"
DEEP_JSON = b"[" * 100_000 + b"]" * 100_000


@dataclass(frozen=True)
class Payload:
    body: bytes = b""
    content_type: str = FORM
    query: str = ""
    headers: tuple[tuple[str, str], ...] = ()


PAGE_PAYLOADS = {
    "empty": Payload(),
    "oversized form": Payload(b"a=" + b"x" * 70_000),
    "invalid UTF-8": Payload(b"action=\xff\xfe&slot=\xc3&decision=\xe2\x82"),
    "control characters": Payload(b"action=hold&slot=%00%01%7f%0d%0a&reason=%00&nonce=%0a"),
    "five thousand fields": Payload(b"&".join(b"f%d=1" % i for i in range(5_000))),
    "repeated fields": Payload(b"action=hold&action=confirm&action=cancel&slot=x&slot=y&decision=approve&decision="),
    "long values": Payload(b"action=hold&slot=" + b"9" * 30_000 + b"&decision=approve&reason=" + b"r" * 30_000),
    "review fields": Payload(b"decision=approve&reason=same_person&nonce=" + b"n" * 5_000),
    "review note": Payload(b"decision=reject&reason=other&note=%00%0d%0a" + b"x" * 20_000 + b"&note=&nonce=n"),
    "rollback": Payload(b"action=rollback&why=" + b"w" * 60_000),
    "feedback fields": Payload(b"recommendation=" + b"yes" * 1000 + b"&rating=99999999999999999999&notes=%00"
                               + b"&outcome=hired%00"),
    "percent garbage": Payload(b"%%%%%zz=%&=&&==&%u0041=%ud800"),
    "deep JSON": Payload(DEEP_JSON, "application/json"),
    "5,000-digit JSON": Payload(b'{"action": ' + b"9" * 5_000 + b"}", "application/json"),
    "binary": Payload(bytes(range(256)) * 40, "application/octet-stream"),
    "multipart": Payload(b"--b\r\nContent-Disposition: form-data; name=\"action\"\r\n\r\nhold\r\n--b--\r\n",
                         "multipart/form-data; boundary=b"),
    "odd content type": Payload(b"action=hold", "text/plain; charset=utf-7"),
    "huge query string": Payload(query="format=" + "x" * 6_000 + "&slot=" + "%ff" * 500),
    "ics query": Payload(query="format=ics&format=%00"),
    "bracket query": Payload(query="&".join(f"a[{i}][b]=%ff" for i in range(300))),
    "huge header": Payload(b"action=hold", headers=(("X-Forwarded-For", "1." * 4_000), ("Cookie", "c=" + "x" * 8_000))),
    "non-ASCII header": Payload(b"action=hold", headers=(("Accept-Language", "é" * 500),)),
}


@pytest.fixture(scope="module")
def pages(client: LocalClient) -> Iterator[dict[str, str]]:
    """One genuine address of every page route, and garbage ones."""
    email = "hostile.visser@example.org"
    person = {"id": "hostile-1", "first_name": "Iris", "last_name": "Visser", "emails": [email], "role_id": "R-1001",
              "status": "Interview"}
    client.post_webhook("carerix", "hostile-d1", person).raise_for_status()
    invite = client.mail_for(lambda m: email in m["to"] and m["subject"] == "Plan your interview", "the invitation",
                             timeout=60)
    book = next(u for u in invite["links"] if "/book/" in u)
    contest = next(u for u in invite["links"] if "/contest/" in u)
    slot = re.findall(r'name="slot" id="[^"]+" value="([^"]+)"', requests.get(book, timeout=30).text)[0]
    requests.post(book, data={"action": "hold", "slot": slot}, timeout=30).raise_for_status()
    manage = requests.post(book, data={"action": "confirm", "slot": slot}, timeout=30,
                           allow_redirects=False).headers["Location"]
    booking = next(b for b in client.bookings() if b["candidate_ref"] == "carerix:hostile-1")
    secret = client.boto("secretsmanager").get_secret_value(
        SecretId=client.outputs["LinkSigningSecretArn"])["SecretString"].encode()
    feedback = links.sign({"k": "feedback", "b": booking["booking_id"], "i": booking["interviewers"][0]}, secret, 3600)
    read = links.sign({"k": "read", "b": booking["booking_id"], "p": "hm-hanna"}, secret, 3600)
    # a proposal's review link: two records of one person
    base = {"first_name": "Sanne", "last_name": "Bakker-hostile", "date_of_birth": "1991-03-04"}
    client.post_webhook("carerix", "hostile-p1", {**base, "id": "hostilea", "emails": ["sanne.b.hostile@gmail.com"]})
    client.post_webhook("carerix", "hostile-p2", {**base, "id": "hostileb", "emails": ["sannebhostile+x@gmail.com"]})
    proposal = client.proposal_for("carerix:hostilea")
    review, _ = client.review_link(str(proposal["proposal_id"]), "review")
    pid = str(proposal["proposal_id"])
    told = client.mail_for(lambda m: pid in m["text"] and any("/reviews/" in u for u in m["links"]),
                           "the review e-mail with its queue link")
    queue = next(u for u in told["links"] if "/reviews/" in u)
    yield {"queue": queue, "queue request": f"{client.api}/reviews", "garbage queue": f"{client.api}/reviews/x.y",
           "garbage queue long": f"{client.api}/reviews/{'q' * 5000}",
           "review": review, "book": book, "manage": manage, "feedback": f"{client.api}/feedback/{feedback}",
           "feedback-read": f"{client.api}/feedback-read/{read}", "garbage review": f"{client.api}/review/x.y",
           "garbage book": f"{client.api}/book/{'A' * 3000}", "garbage feedback": f"{client.api}/feedback/%00%ff",
           "garbage feedback-read": f"{client.api}/feedback-read/a.b.c", "contest": contest,
           "garbage contest": f"{client.api}/contest/{'x.' * 2000}"}


def _send(method: str, url: str, payload: Payload) -> requests.Response:
    headers = {"Content-Type": payload.content_type, **dict(payload.headers)}
    target = f"{url}?{payload.query}" if payload.query else url
    return requests.request(method, target, data=payload.body, headers=headers, timeout=60, allow_redirects=False)


PAGE_ROUTES = ["review", "book", "manage", "feedback", "feedback-read", "garbage review", "garbage book",
               "garbage feedback", "garbage feedback-read", "contest", "garbage contest", "queue", "queue request",
               "garbage queue", "garbage queue long"]


@pytest.mark.parametrize("name", list(PAGE_PAYLOADS))
@pytest.mark.parametrize("route", PAGE_ROUTES)
def test_page_routes_answer_hostile_input_below_500(pages: dict[str, str], route: str, name: str) -> None:
    payload = PAGE_PAYLOADS[name]
    for method in ("GET", "POST"):
        reply = _send(method, pages[route], payload)
        assert reply.status_code < 500, (method, route, name, reply.status_code, reply.text[:300])
        assert "Traceback" not in reply.text


def test_the_pages_still_work_after_the_onslaught(pages: dict[str, str]) -> None:
    assert requests.get(pages["manage"], timeout=30).status_code == 200
    assert requests.get(pages["review"], timeout=30).status_code == 200
    assert requests.get(pages["queue"], timeout=30).status_code == 200


# -- webhooks -------------------------------------------------------------------------------------------------

ENVELOPE = {"delivery_id": "hostile-wh-{n}", "event": "candidate.updated",
            "candidate": {"id": "hostile-wh-{n}", "first_name": "Ruben", "emails": ["ruben.hostile@example.nl"]}}


def _envelope(n: int, **candidate: object) -> bytes:
    data = json.loads(json.dumps(ENVELOPE).replace("{n}", str(n)))
    data["candidate"].update(candidate)
    return json.dumps(data).encode()


WEBHOOK_BODIES = {
    "deep JSON": DEEP_JSON,
    "deep candidate": b'{"delivery_id": "hostile-wh-deep", "event": "candidate.updated", "candidate": {"id": "x", '
                      b'"raw": ' + b'{"a": ' * 5_000 + b"1" + b"}" * 5_000 + b"}}",
    "5,000-digit number": _envelope(1, score=1).replace(b'"score": 1', b'"score": ' + b"9" * 5_000),
    "4,000-digit number": _envelope(2, score=1).replace(b'"score": 1', b'"score": ' + b"9" * 4_000),
    "NaN": _envelope(3, score=1).replace(b'"score": 1', b'"score": NaN'),
    "1e999": _envelope(4, score=1).replace(b'"score": 1', b'"score": 1e999'),
    "lone surrogate": _envelope(5, first_name="x").replace(b'"first_name": "x"', b'"first_name": "\\udc00"'),
    "NUL in strings": _envelope(6, first_name="\x00", status="\x00\x01"),
    "invalid UTF-8": _envelope(7).replace(b"Ruben", b"R\xffben"),
    "wide record": json.dumps({**json.loads(_envelope(8)), "candidate": {
        **json.loads(_envelope(8))["candidate"], "notes": "\U0001f600" * 60_000}}, ensure_ascii=False).encode(),
    "hostile version": _envelope(9, lastModified="9" * 400, lastModifiedAt={"$gt": ""}, dateLastModified=10**30),
    "hostile claim": _envelope(10, changed_by={"name": "anna"}, role_id=["R-1001"], status="Interview"),
    "not an object": b'"just a string"',
    "binary": bytes(range(256)) * 40,
}


@pytest.mark.parametrize("name", list(WEBHOOK_BODIES))
@pytest.mark.parametrize("system", ["otys", "carerix"])
def test_webhooks_answer_signed_hostile_bodies_below_500(client: LocalClient, system: str, name: str) -> None:
    body = WEBHOOK_BODIES[name]
    header = "X-Otys-Signature" if system == "otys" else "Cx-Signature"
    signature = sign(client.webhook_secret(system), body, int(time.time()))
    for content_type in ("application/json", "application/octet-stream", "text/plain"):
        reply = requests.post(f"{client.api}/webhooks/{system}", data=body, timeout=60,
                              headers={"Content-Type": content_type, header: signature})
        assert reply.status_code < 500, (system, name, content_type, reply.status_code, reply.text[:300])
        assert "error" in reply.json() or reply.status_code == 202


SIGNATURES = {
    "huge timestamp": "t=" + "9" * 400 + ",v1=0",
    "5,000-digit timestamp": "t=" + "9" * 5_000 + ",v1=" + "0" * 64,
    "negative timestamp": "t=-1,v1=" + "0" * 64,
    "float timestamp": "t=1e308,v1=" + "0" * 64,
    "non-ASCII": "t={now},v1=" + "é" * 64,  # a fresh timestamp: the MAC itself is compared
    "many parts": ",".join(["t=1"] * 2_000),
    "no equals": "t" * 8_000,
}


@pytest.mark.parametrize("name", list(SIGNATURES))
@pytest.mark.parametrize("system", ["otys", "carerix", "bullhorn", "x" * 300])
def test_webhooks_answer_hostile_signature_headers_with_a_4xx(client: LocalClient, system: str, name: str) -> None:
    header = "X-Otys-Signature" if system == "otys" else "Cx-Signature"
    reply = requests.post(f"{client.api}/webhooks/{system}", data=_envelope(20), timeout=60,
                          headers={"Content-Type": "application/json",
                                   header: SIGNATURES[name].replace("{now}", str(int(time.time()))).encode("latin-1")})
    assert 400 <= reply.status_code < 500, (system, name, reply.status_code, reply.text[:300])


def test_a_webhook_still_works_after_the_onslaught(client: LocalClient) -> None:
    reply = client.post_webhook("otys", "hostile-after-1", {"id": "hostile-after", "first_name": "Ruben"})
    assert reply.status_code == 202
    wait_for("the record", lambda: client.boto("dynamodb").get_item(
        TableName=client.outputs["CandidatesTableName"], Key={"ref": {"S": "otys:hostile-after"}}).get("Item"))
