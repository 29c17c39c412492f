"""A small HRIS client (`HrisClient`, implementing the `Hris` protocol): onboarding tasks for hired
candidates, from task templates.

API (the agency's HRIS, mirrored by `foureyes_local.fakes.hris`):
- `POST {base}/v1/onboarding-tasks` with `Authorization: Bearer <api key>` and an `Idempotency-Key`
  header; body `{"employeeRef", "templateId", "title", "steps", "dueDate", "assigneeRole"}`;
  201 with the task (`id`, `status`), or 200 with the same task when the key was seen before.
- `GET {base}/v1/onboarding-tasks/{id}`.
429/503 are retried after `Retry-After` (or a back-off) through the injected `sleep`; every request has
a timeout; within a deadline (`foureyes.outbound`) a retry that would not fit before it is not made. The
employee reference is the ATS ref (`system:record_id`): no names or addresses leave here.

Foureyes writes to the HRIS only through the dispatcher (the target `SYSTEM`), like every ATS write: the
onboarding task of a hire is a fact the deciding person entered (`onboarding_call`, submitted with
`submit_fact`), so the kill switch, shadow mode, the daily cap, parking and the audit apply to it. The
dispatcher sends it with `HrisClient.execute`; its idempotency key makes sending it again harmless.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

import requests

from foureyes import integrations
from foureyes.ats.calls import IDEMPOTENCY_KEY, Call, Receipt
from foureyes.errors import BadRequest, HrisUnavailable, IntegrationNotConfigured, Unauthorized
from foureyes.integrations import Connection
from foureyes.outbound import DEFAULT_TIMEOUT, Sleep, http_session, pause, raise_if_out_of_time

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 502, 503, 504})
SYSTEM = "hris"  # the HRIS as a dispatch target (beside the ATSes)
CREATE_ONBOARDING_TASK = "create_onboarding_task"  # the one HRIS write (the action of its fact)


@dataclass(frozen=True, slots=True)
class TaskTemplate:
    """A recruiter-maintained onboarding task template."""

    template_id: str
    title: str
    steps: tuple[str, ...] = ()
    due_days: int = 14
    assignee_role: str = "hiring_manager"

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> TaskTemplate:
        try:
            return cls(str(raw["template_id"]), str(raw["title"]), tuple(str(s) for s in raw.get("steps", ())),
                       int(raw.get("due_days", 14)), str(raw.get("assignee_role", "hiring_manager")))
        except (KeyError, TypeError, ValueError) as exc:
            raise BadRequest("a task template needs template_id and title") from exc


@dataclass(frozen=True, slots=True)
class OnboardingTask:
    task_id: str
    status: str
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)


class Hris(Protocol):
    """What scheduling needs from the HRIS."""

    def create_onboarding_task(self, template: TaskTemplate, employee_ref: str, *, start: date,
                               idempotency_key: str) -> OnboardingTask:
        """Create the template's task for `employee_ref`; the same key never creates a second task."""
        ...


def _task_body(template: TaskTemplate, employee_ref: str, start: date) -> dict[str, Any]:
    return {"employeeRef": employee_ref, "templateId": template.template_id, "title": template.title,
            "steps": list(template.steps), "dueDate": (start + timedelta(days=template.due_days)).isoformat(),
            "assigneeRole": template.assignee_role}


def onboarding_call(template: TaskTemplate, employee_ref: str, *, start: date, idempotency_key: str) -> Call:
    """The HRIS write that creates the template's task for `employee_ref`, as the dispatcher sends it."""
    return {"hris": CREATE_ONBOARDING_TASK, "body": _task_body(template, employee_ref, start),
            IDEMPOTENCY_KEY: idempotency_key}


class HrisClient:
    """The HRIS over HTTP (implements `Hris`; `execute` sends a dispatched `onboarding_call`)."""

    def __init__(self, *, base_url: str, api_key: str, session: requests.Session | None = None,
                 timeout: tuple[float, float] = DEFAULT_TIMEOUT, sleep: Sleep = time.sleep,
                 max_attempts: int = 4) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.session = session or http_session(statuses=(), methods=("GET",))
        self.timeout, self._sleep, self.max_attempts = timeout, sleep, max_attempts

    def _request(self, method: str, path: str, body: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None) -> requests.Response:
        sent = {"Authorization": f"Bearer {self._api_key}", **(headers or {})}
        for attempt in range(self.max_attempts):
            try:
                reply = self.session.request(method, f"{self.base_url}{path}", json=body, headers=sent,
                                             timeout=self.timeout)
            except requests.RequestException as exc:
                raise_if_out_of_time("the HRIS", exc)
                if attempt == self.max_attempts - 1:
                    raise HrisUnavailable("the HRIS did not answer") from exc
                pause(min(2.0**attempt, 8.0), self._sleep, "the HRIS (no answer)")
                continue
            if reply.status_code in RETRY_STATUSES and attempt < self.max_attempts - 1:
                try:
                    wait = float(reply.headers.get("Retry-After", ""))
                except ValueError:
                    wait = min(2.0**attempt, 8.0)
                pause(max(wait, 0.0), self._sleep, f"the HRIS ({reply.status_code})")
                continue
            if reply.status_code in (401, 403):
                raise Unauthorized("the HRIS refused the API key")
            if reply.status_code in RETRY_STATUSES or reply.status_code >= 500:
                raise HrisUnavailable(f"the HRIS answered {reply.status_code}")
            if reply.status_code >= 400:
                raise BadRequest(f"the HRIS refused the request ({reply.status_code})")
            return reply
        raise HrisUnavailable("the HRIS kept failing")

    def create_onboarding_task(self, template: TaskTemplate, employee_ref: str, *, start: date,
                               idempotency_key: str) -> OnboardingTask:
        """Create the template's task for `employee_ref`; the same key never creates a second task."""
        return self._create(_task_body(template, employee_ref, start), idempotency_key)

    def _create(self, body: Mapping[str, Any], idempotency_key: str) -> OnboardingTask:
        reply = self._request("POST", "/v1/onboarding-tasks", body, {"Idempotency-Key": idempotency_key})
        raw = reply.json()
        task = OnboardingTask(str(raw["id"]), str(raw.get("status", "")), raw)
        log.info("onboarding task created", extra={"task": task.task_id, "template": body.get("templateId")})
        return task

    def execute(self, call: Mapping[str, Any]) -> Receipt:
        """Send an `onboarding_call` (the dispatcher's side). The HRIS has no way to delete a task: the receipt
        has no inverse. The same idempotency key again returns the first task (nothing is created twice)."""
        if call.get("hris") != CREATE_ONBOARDING_TASK or not call.get(IDEMPOTENCY_KEY):
            raise BadRequest("not an HRIS call")
        task = self._create(dict(call["body"]), str(call[IDEMPOTENCY_KEY]))
        return Receipt(dict(call), [{"id": task.task_id, "status": task.status}], [task.task_id], {}, {})

    def get_task(self, task_id: str) -> OnboardingTask:
        raw = self._request("GET", f"/v1/onboarding-tasks/{task_id}").json()
        return OnboardingTask(str(raw["id"]), str(raw.get("status", "")), raw)


def connected(read: Callable[[str], Connection] = integrations.read,
              report: Callable[[Connection], None] = integrations.report) -> HrisClient:
    """The HRIS client from its connection secret (`HRIS_CONNECTION_SECRET_ID`: JSON base_url, api_key), as it is
    now (`read`).

    `IntegrationNotConfigured` while the secret holds the template's placeholder (or is incomplete, or not JSON),
    reported once per invocation (`report`): the dispatcher parks the write, waiting for the HRIS, and the retry
    sends it once ops have filled the secret in."""
    connection = read(integrations.HRIS)
    if connection.settings is None:
        report(connection)
        raise IntegrationNotConfigured(integrations.HRIS, connection.why)
    return HrisClient(base_url=str(connection.settings["base_url"]), api_key=str(connection.settings["api_key"]))


class ConnectedHris:
    """The HRIS as its connection secret says when it is used (`connected`), not when the function starts: a hire's
    onboarding task is entered even before ops configure the HRIS, and waits, parked, for it."""

    def create_onboarding_task(self, template: TaskTemplate, employee_ref: str, *, start: date,
                               idempotency_key: str) -> OnboardingTask:
        return connected().create_onboarding_task(template, employee_ref, start=start,
                                                  idempotency_key=idempotency_key)
