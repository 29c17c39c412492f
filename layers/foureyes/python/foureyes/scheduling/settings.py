"""Scheduling configuration: ATS stages that start scheduling, interview plans per role, recruiter-approved
message templates, slot rules, nudge policy, outcome -> ATS status maps and the onboarding task template; and
what candidates are told about a role: its title, the company (name and logo), where or how the interview takes
place, the panel's names and job titles, and the recruiter to contact (`Settings.about(role_id)`, from the
role, the config's `company` and its `people` directory: `{"iv-ilse": {"name": ..., "title": ..., "phone": ...}}`).

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
    """A candidate-facing message a recruiter approved (`$link`, `$role`, `$role_title`, `$company`,
    `$recruiter`, `$deadline`, `$when`, `$duration`), with its approved translations (`{"nl": {"subject": ...,
    "text": ...}}`; the template's own text where a language has none)."""

    template_id: str
    subject: str
    text: str
    approved_by: str = ""
    translations: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    def render(self, values: Mapping[str, str], language: str = "") -> tuple[str, str]:
        subject, text = self.translations.get(language, (self.subject, self.text))
        return Template(subject).safe_substitute(values), Template(text).safe_substitute(values)


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
    title: str = ""  # the job's title as candidates read it ("Senior Accountant")
    company: str = ""  # the hiring company; the config's `company.name` when empty
    logo_url: str = ""  # https only; the config's `company.logo_url` when empty
    video_link: str = ""  # the video call's address for a remote interview (https)


@dataclass(frozen=True, slots=True)
class Person:
    """A member of staff as candidates read them (never logged)."""

    person_id: str
    name: str
    title: str = ""
    email: str = ""
    phone: str = ""


@dataclass(frozen=True, slots=True)
class RoleAbout:
    """What a candidate is told about their interview: shown on every page, e-mail and the .ics."""

    role_id: str
    title: str
    company: str
    logo_url: str
    mode: Mode
    duration_minutes: int
    location: str
    video_link: str
    panel: tuple[Person, ...]
    recruiter: Person | None


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
    company: str = ""
    logo_url: str = ""
    people: Mapping[str, Person] = field(default_factory=dict)

    def person(self, person_id: str) -> Person:
        """Staff member `person_id` as candidates read them (their id when the directory does not name them)."""
        known = self.people.get(person_id)
        email = self.interviewer_emails.get(person_id, "")
        if known is None:
            return Person(person_id, person_id, email=email)
        return Person(person_id, known.name, known.title, known.email or email, known.phone)

    def about(self, role_id: str, panel: tuple[str, ...] | None = None) -> RoleAbout:
        """What candidates are told about `role_id` (`panel`: the interviewers of a booked time, else the role's)."""
        plan = self.roles.get(role_id) or RolePlan(role_id, ())
        recruiter = self.person(plan.recruiters[0]) if plan.recruiters else None
        return RoleAbout(role_id, plan.title or role_id, plan.company or self.company, plan.logo_url or self.logo_url,
                         plan.mode, plan.duration_minutes, plan.location, plan.video_link,
                         tuple(self.person(p) for p in (plan.panel if panel is None else panel)), recruiter)

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

    def message_values(self, role_id: str) -> dict[str, str]:
        """What a message template may say about the role: `$role_title`, `$company`, `$recruiter`."""
        about = self.about(role_id)
        return {"role_title": about.title, "company": about.company,
                "recruiter": about.recruiter.name if about.recruiter else ""}

    def approved(self, template_id: str) -> MessageTemplate:
        """A template a recruiter approved; refusing to send anything else."""
        template = self.templates.get(template_id)
        if template is None or not template.approved_by:
            raise ConfigurationError(f"message template {template_id} is missing or not approved by a recruiter")
        return template

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Settings:
        try:
            company = dict(raw.get("company") or {})
            roles = {rid: RolePlan(
                role_id=rid, panel=tuple(r["panel"]), duration_minutes=int(r.get("duration_minutes", 60)),
                mode=Mode(r.get("mode", "remote")), panel_size=int(r.get("panel_size", 0)),
                window_days=int(r.get("window_days", 14)), hiring_managers=tuple(r.get("hiring_managers", ())),
                recruiters=tuple(r.get("recruiters", ())), invite_template=str(r.get("invite_template", "invite")),
                nudge_template=str(r.get("nudge_template", "nudge")),
                reminder_template=str(r.get("reminder_template", "reminder")), location=str(r.get("location", "")),
                title=_text(r, "title", f"roles.{rid}.title"), company=_text(r, "company", f"roles.{rid}.company"),
                logo_url=_https(r, "logo_url", f"roles.{rid}.logo_url"),
                video_link=_https(r, "video_link", f"roles.{rid}.video_link"))
                for rid, r in dict(raw.get("roles", {})).items()}
            templates = {tid: MessageTemplate(tid, str(t["subject"]), str(t["text"]), str(t.get("approved_by", "")),
                                              _translations(t, f"templates.{tid}"))
                         for tid, t in dict(raw.get("templates", {})).items()}
            people = {pid: Person(pid, _text(p, "name", f"people.{pid}.name", required=True),
                                  _text(p, "title", f"people.{pid}.title"), _text(p, "email", f"people.{pid}.email"),
                                  _text(p, "phone", f"people.{pid}.phone"))
                      for pid, p in dict(raw.get("people") or {}).items()}
            onboarding = raw.get("onboarding_template")
            return cls(
                stages={system: frozenset(names) for system, names in dict(raw.get("stages", {})).items()},
                roles=roles, templates=templates, rules=Rules(**dict(raw.get("rules", {}))),
                hold_minutes=int(raw.get("hold_minutes", 10)), nudges=NudgePolicy(**dict(raw.get("nudges", {}))),
                outcomes={s: dict(m) for s, m in dict(raw.get("outcomes", {})).items()},
                onboarding=TaskTemplate.from_dict(onboarding) if onboarding else None,
                interviewer_emails=dict(raw.get("interviewer_emails", {})),
                link_days_after_window=int(raw.get("link_days_after_window", 7)),
                company=_text(company, "name", "company.name"),
                logo_url=_https(company, "logo_url", "company.logo_url"), people=people)
        except ConfigurationError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigurationError(f"the scheduling configuration is malformed: {type(exc).__name__}"
                                     + (f" {exc}" if isinstance(exc, KeyError) else "")) from exc


MAX_TEXT = 200


def _translations(raw: Mapping[str, Any], path: str) -> dict[str, tuple[str, str]]:
    """A message template's approved translations: `{"nl": {"subject": ..., "text": ...}}`."""
    out: dict[str, tuple[str, str]] = {}
    for language, entry in dict(raw.get("translations") or {}).items():
        if not isinstance(entry, Mapping) or not isinstance(entry.get("subject"), str) \
                or not isinstance(entry.get("text"), str) or not entry["subject"].strip() or not entry["text"].strip():
            raise ConfigurationError(f"scheduling configuration: {path}.translations.{language} needs a subject "
                                     "and a text")
        out[str(language)] = (entry["subject"], entry["text"])
    return out


def _text(raw: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> str:
    """A short one-line text of the configuration; a `ConfigurationError` naming the field otherwise."""
    value = raw.get(key, "")
    if not isinstance(value, str):
        raise ConfigurationError(f"scheduling configuration: {path} must be a text")
    value = value.strip()
    if required and not value:
        raise ConfigurationError(f"scheduling configuration: {path} is required")
    if len(value) > MAX_TEXT or any(ord(c) < 32 for c in value):
        raise ConfigurationError(f"scheduling configuration: {path} must be one line of at most {MAX_TEXT} characters")
    return value


def _https(raw: Mapping[str, Any], key: str, path: str) -> str:
    """An optional https URL of the configuration (shown to candidates as a link or an image)."""
    value = raw.get(key, "")
    if not isinstance(value, str) or (value and (not value.startswith("https://") or len(value) > 500
                                                 or any(c.isspace() or c in "\"<>" for c in value))):
        raise ConfigurationError(f"scheduling configuration: {path} must be an https:// URL")
    return value
