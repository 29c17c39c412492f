"""Scheduling as the Lambdas run it: dependencies from the environment, and stage changes from the
candidates table stream (an ATS status a recruiter set, seen through a pull or a webhook)."""

from __future__ import annotations

from functools import cache
from typing import Any

from foureyes.dispatch.facts import submit_fact
from foureyes.ingest.candidates import from_stream_image
from foureyes.scheduling import service


@cache
def deps() -> service.Deps:
    """The real dependencies, once per cold start."""
    return service.default_deps(submit_fact)


def stage_change_of(old_image: dict[str, Any] | None, new_image: dict[str, Any]) -> service.StageChange | None:
    """A StageChange when a record's status moved (the role and time zone come with the ATS record)."""
    new = from_stream_image(new_image)
    old = from_stream_image(old_image) if old_image else None
    if not new.status or (old is not None and old.status == new.status):
        return None
    raw = new_image.get("raw", {}).get("S", "{}")
    import json

    record = json.loads(raw) if isinstance(raw, str) else {}
    role_id = str(record.get("role_id") or record.get("jobOrderId") or "")
    if not role_id or not new.emails:
        return None
    version = new_image.get("source_version", {}).get("S", "") or new_image.get("updated_at", {}).get("S", "")
    return service.StageChange(
        system=new.system, record_id=new.record_id, stage=new.status, role_id=role_id,
        changed_by=str(record.get("changed_by") or f"ats:{new.system}"), change_id=f"{new.ref}:{version}",
        candidate_email=new.emails[0], candidate_tz=str(record.get("time_zone") or "Europe/Amsterdam"))


CANCELLED_STAGES = frozenset({"interview cancelled", "interview canceled", "withdrawn"})


def on_record_change(old_image: dict[str, Any] | None, new_image: dict[str, Any]) -> str:
    """Start scheduling on an interview stage; cancel on a cancellation stage. Returns what happened."""
    change = stage_change_of(old_image, new_image)
    if change is None:
        return "no stage change"
    if change.stage.strip().lower() in CANCELLED_STAGES:
        cancelled = service.cancel_from_ats(change.system, change.record_id, change.role_id, change.changed_by, deps())
        return f"cancelled {len(cancelled)}"
    made = service.on_stage_change(change, deps())
    return "interview requested" if made is not None and made.created else "not an interview stage"
