"""Scheduling configuration: ATS stages that start scheduling, interview plans per role, recruiter-approved
message templates, slot rules, nudge policy, outcome -> ATS status maps and the onboarding task template.

Read from the SSM parameter named by `SCHEDULING_CONFIG_PARAM` (`Settings.from_dict`); a malformed one is a
`ConfigurationError`, and a template no recruiter approved is never sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from string import Template
from typing import Any

from foureyes.errors import BadRequest, ConfigurationError
from foureyes.scheduling.hris import TaskTemplate
from foureyes.scheduling.slots import Mode, Rules


@dataclass(frozen=True, slots=True)
class MessageTemplate:
    """A candidate-facing message a recruiter approved (`$link`, `$role`, `$deadline`, `$when`, `$duration`)."""

    template_id: str
    subject: str
    text: str
    approved_by: str = ""

    def render(self, values: Mapping[str, str]) -> tuple[str, str]:
        return Template(self.subject).safe_substitute(values), Template(self.text).safe_substitute(values)


@dataclass(frozen=True, slots=True)
class RolePlan:
    role_id: str
    panel: tuple[str, ...]
    duration_minutes: int = 60
    mode: Mode = Mode.REMOTE
    panel_size: int = 0
    window_days: int = 14
    hiring_managers: tuple[str, ...] = ()
    recruiters: tuple[str, ...] = ()
    invite_template: str = "invite"
    nudge_template: str = "nudge"
    reminder_template: str = "reminder"
    location: str = ""


@dataclass(frozen=True, slots=True)
class NudgePolicy:
    max_candidate_nudges: int = 2
    first_nudge_after_hours: int = 48
    nudge_every_hours: int = 48
    reminder_before_hours: int = 24
    feedback_after_hours: int = 2


@dataclass(frozen=True, slots=True)
class Settings:
    stages: Mapping[str, frozenset[str]]  # system -> ATS stage names that mean "schedule an interview"
    roles: Mapping[str, RolePlan]
    templates: Mapping[str, MessageTemplate]
    rules: Rules = Rules()
    hold_minutes: int = 10
    nudges: NudgePolicy = NudgePolicy()
    outcomes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # system -> outcome -> ATS status
    onboarding: TaskTemplate | None = None
    interviewer_emails: Mapping[str, str] = field(default_factory=dict)  # staff id -> address (panel, HMs, recruiters)
    link_days_after_window: int = 7

    def role(self, role_id: str) -> RolePlan:
        plan = self.roles.get(role_id)
        if plan is None:
            raise BadRequest(f"no interview plan is configured for role {role_id}")
        return plan

    def recruiter_emails(self, role_id: str) -> tuple[str, ...]:
        """The addresses of the role's recruiters (from `interviewer_emails`, the staff directory scheduling
        uses): whom a candidate is told to contact, and whom scheduling tells when something needs a person."""
        plan = self.roles.get(role_id)
        if plan is None:
            return ()
        return tuple(dict.fromkeys(a for r in plan.recruiters if (a := self.interviewer_emails.get(r))))

    def approved(self, template_id: str) -> MessageTemplate:
        """A template a recruiter approved; refusing to send anything else."""
        template = self.templates.get(template_id)
        if template is None or not template.approved_by:
            raise ConfigurationError(f"message template {template_id} is missing or not approved by a recruiter")
        return template

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Settings:
        try:
            roles = {rid: RolePlan(
                role_id=rid, panel=tuple(r["panel"]), duration_minutes=int(r.get("duration_minutes", 60)),
                mode=Mode(r.get("mode", "remote")), panel_size=int(r.get("panel_size", 0)),
                window_days=int(r.get("window_days", 14)), hiring_managers=tuple(r.get("hiring_managers", ())),
                recruiters=tuple(r.get("recruiters", ())), invite_template=str(r.get("invite_template", "invite")),
                nudge_template=str(r.get("nudge_template", "nudge")),
                reminder_template=str(r.get("reminder_template", "reminder")), location=str(r.get("location", "")))
                for rid, r in dict(raw.get("roles", {})).items()}
            templates = {tid: MessageTemplate(tid, str(t["subject"]), str(t["text"]), str(t.get("approved_by", "")))
                         for tid, t in dict(raw.get("templates", {})).items()}
            onboarding = raw.get("onboarding_template")
            return cls(
                stages={system: frozenset(names) for system, names in dict(raw.get("stages", {})).items()},
                roles=roles, templates=templates, rules=Rules(**dict(raw.get("rules", {}))),
                hold_minutes=int(raw.get("hold_minutes", 10)), nudges=NudgePolicy(**dict(raw.get("nudges", {}))),
                outcomes={s: dict(m) for s, m in dict(raw.get("outcomes", {})).items()},
                onboarding=TaskTemplate.from_dict(onboarding) if onboarding else None,
                interviewer_emails=dict(raw.get("interviewer_emails", {})),
                link_days_after_window=int(raw.get("link_days_after_window", 7)))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigurationError(f"the scheduling configuration is malformed: {type(exc).__name__}") from exc
