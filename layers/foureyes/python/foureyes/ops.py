"""Operations: the kill switch's manual side, the queue, reviewer rates and the audit check.

Used by `foureyes ops` against the local cloud or a deployed stack; every change is audited.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from foureyes import audit
from foureyes.config import env, secret_bytes
from foureyes.errors import BadRequest
from foureyes.model import ProposalStatus
from foureyes.store.models import AuditItem, ProposalItem, bound

OPEN = (ProposalStatus.PENDING_REVIEW, ProposalStatus.PENDING_APPROVAL, ProposalStatus.PENDING_TIEBREAK,
        ProposalStatus.APPROVED, ProposalStatus.PARKED)


@dataclass(frozen=True, slots=True)
class Status:
    paused: bool
    shadow_mode: bool
    queue: dict[str, int]


def _flag(ssm: Any, name: str) -> bool:
    return str(ssm.get_parameter(Name=name)["Parameter"]["Value"]).strip().lower() == "true"


def status(ssm: Any) -> Status:
    model = bound(ProposalItem)
    queue = Counter({state.value: model.by_status.count(state.value) for state in OPEN})
    return Status(_flag(ssm, env("KILL_SWITCH_PARAMETER")), _flag(ssm, env("SHADOW_MODE_PARAMETER")),
                  dict(queue))


def set_paused(ssm: Any, paused: bool, operator: str, reason: str) -> None:
    """Pause or unpause all dispatch by hand; unpausing needs a reason and is audited."""
    if not reason.strip():
        raise BadRequest("--reason is required: say why dispatch may resume (or why it stops)")
    if not operator.strip():
        raise BadRequest("--operator is required: who is doing this")
    ssm.put_parameter(Name=env("KILL_SWITCH_PARAMETER"), Value="true" if paused else "false", Type="String",
                      Overwrite=True)
    audit.record("dispatch.paused" if paused else "dispatch.unpaused", operator, "kill-switch",
                 {"reason_given": True, "reason": reason[:200]})


def set_shadow(ssm: Any, shadow: bool, operator: str, reason: str) -> None:
    """Turn shadow mode on or off (going live is a decision: it needs a reason and is audited)."""
    if not reason.strip():
        raise BadRequest("--reason is required: say why writes may (or may no longer) reach the ATSes")
    ssm.put_parameter(Name=env("SHADOW_MODE_PARAMETER"), Value="true" if shadow else "false", Type="String",
                      Overwrite=True)
    audit.record("dispatch.shadow_on" if shadow else "dispatch.shadow_off", operator, "shadow-mode",
                 {"reason": reason[:200]})


def queue(limit: int = 50) -> list[dict[str, Any]]:
    model = bound(ProposalItem)
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for state in OPEN:
        for item in model.by_status.query(state.value, limit=limit):
            age = now - datetime.fromisoformat(item.proposed_at)
            rows.append({"proposal_id": item.proposal_id, "system": item.system, "action": item.action,
                         "status": item.status, "age_hours": round(age.total_seconds() / 3600, 1)})
    return sorted(rows, key=lambda row: -float(row["age_hours"]))[:limit]


def audit_rows() -> list[dict[str, Any]]:
    model = bound(AuditItem)
    return [{"chain": row.chain, "seq": int(row.seq), "at": row.at, "event": row.event, "actor": row.actor,
             "subject": row.subject, "details": row.details, "prev_hash": row.prev_hash, "hash": row.hash,
             "signature": row.signature}
            for row in model.query(audit.CHAIN, scan_index_forward=True, consistent_read=True)]


def verify_audit() -> tuple[int, list[audit.Problem]]:
    rows = audit_rows()
    return len(rows), audit.verify_rows(rows, secret_bytes(env("AUDIT_KEY_SECRET_ARN")))
