"""A person's queue of open reviews ("my open reviews"), opened by a personal, signed, expiring link.

- `queue_link(person_id, deps)`: the link (`/reviews/<token>`), in every review e-mail and mailed on request.
  Its token names only the person (`{"k": "queue", "q": id}`), signed with the review links' secret, valid as
  long as a review link (`REVIEW_LINK_TTL_HOURS`); a review link never opens a queue, nor a queue link a review.
- `open_for(token, deps)`: the person's open stages (from the review tasks' `ByAssignee` index), oldest proposal
  first, each with its stage, age, the change as a sentence and a fresh review link for the same stage (the same
  `link_id`: a review link the queue hands out is the one the e-mail carried, with a new expiry). Viewing is
  audited (`queue.viewed`); it decides nothing.
- `next_for(person_id, deps)`: after a decision, the next open review (its fresh link) and how many are left.
- `request_link(email, deps, language)`: a person who enters their work e-mail gets their queue link mailed if
  they are in the people list; the caller answers the same either way (no enumeration). Audited by person id;
  the address entered is never logged or stored. At most `QUEUE_LINK_MAILS_PER_HOUR` (the template's setting,
  3 when unset) such e-mails per person per hour, so the form cannot be used to flood someone's mailbox.

Blind as the review pages: the queue shows no confidence and no other stage's decision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from foureyes import links, mail
from foureyes.errors import N_, Forbidden, Unauthorized
from foureyes.model import Stage
from foureyes.review import explain, lifecycle
from foureyes.review.decide import Deps, default_deps, queue_link
from foureyes.review.people import Person
from foureyes.store.models import ProposalItem, ReviewTaskItem
from foureyes.web.i18n import Language
from foureyes.web.templating import render_email

MAX_OPEN = 100  # a queue shows at most this many open stages (oldest first)
DEFAULT_MAILS_PER_HOUR = 3


@dataclass(frozen=True, slots=True)
class OpenReview:
    proposal_id: str
    stage: Stage
    proposal: ProposalItem
    since: datetime  # when this stage was handed to the person
    proposed_at: datetime
    url: str
    on_hold: bool

    def change(self, gettext: Callable[[str], str]) -> str:
        return explain.change_of(self.proposal).render(gettext)

    def age_hours(self, now: datetime) -> float:
        return max(0.0, (now - self.proposed_at).total_seconds() / 3600)


def _now_ms(deps: Deps) -> int:
    return int(deps.clock().timestamp() * 1000)


def review_link(task: ReviewTaskItem, deps: Deps) -> str:
    """A fresh link to the same stage for its assignee (the task's link id: the e-mailed link's twin)."""
    token = links.sign({"p": task.proposal_id, "s": task.stage, "a": task.assignee, "l": task.link_id},
                       deps.link_secret(), deps.settings.review_link_ttl_seconds, now_ms=_now_ms(deps))
    return f"{deps.settings.public_base_url}/review/{token}"


def person_of(token: str, deps: Deps) -> Person:
    """The person a queue link was made for; `Unauthorized`/`LinkExpired` for a bad or old link, `Forbidden` for
    someone no longer in the people list."""
    claims = links.verify(token, deps.link_secret(), now_ms=_now_ms(deps))
    person_id = claims.get("q")
    if claims.get("k") != "queue" or not isinstance(person_id, str) or "s" in claims:
        raise Unauthorized("the link is not a queue link")
    person = deps.people().find(person_id)
    if person is None:
        raise Forbidden(N_("you are not in the people directory of reviewers; ask your team lead"))
    return person


def _stamp(text: str | None) -> datetime:
    moment = datetime.fromisoformat(text or "1970-01-01T00:00:00+00:00")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.now().astimezone().tzinfo)


def open_reviews(person_id: str, deps: Deps) -> list[OpenReview]:
    """The stages waiting for this person's decision, oldest proposal first."""
    found: list[OpenReview] = []
    for task in deps.tasks.pending_for(person_id, MAX_OPEN):
        item = deps.proposals.get(task.proposal_id)
        try:
            stage = Stage(task.stage)
        except ValueError:
            continue
        if item is None or item.status != lifecycle.stage_status(stage).value:
            continue  # decided meanwhile by the stage's other run, withdrawn, or gone
        found.append(OpenReview(item.proposal_id, stage, item, _stamp(task.created_at), _stamp(item.proposed_at),
                                review_link(task, deps), bool(item.held_by)))
    return sorted(found, key=lambda review: (review.proposed_at, review.proposal_id))


def open_for(token: str, deps: Deps | None = None) -> tuple[Person, list[OpenReview]]:
    """The person of a queue link and their open reviews; audited (viewing decides nothing)."""
    deps = deps or default_deps()
    person = person_of(token, deps)
    reviews = open_reviews(person.id, deps)
    deps.audit.record("queue.viewed", person.id, f"queue#{person.id}", {"open": len(reviews)})
    return person, reviews


@dataclass(frozen=True, slots=True)
class Next:
    url: str  # the next open review's link ("" when none is left)
    left: int
    queue_url: str


def next_for(person_id: str, deps: Deps | None = None) -> Next:
    """What to offer after a decision: the oldest open review that can be decided now, and the queue."""
    deps = deps or default_deps()
    reviews = open_reviews(person_id, deps)
    ready = [review for review in reviews if not review.on_hold]
    return Next(ready[0].url if ready else "", len(reviews), queue_link(person_id, deps))


def request_link(email: str, deps: Deps | None = None, language: Language | None = None) -> bool:
    """Mail the queue link to the person with this work e-mail, if there is one (True then). The caller says
    the same either way; nothing about the address entered is logged or kept."""
    deps = deps or default_deps()
    person = deps.people().by_email(email)
    if person is None:
        return False
    now = deps.clock()
    limit = int(deps.settings.optional("QUEUE_LINK_MAILS_PER_HOUR") or DEFAULT_MAILS_PER_HOUR)
    if not deps.counters.take(f"queue-link#{person.id}#{now:%Y%m%d%H}", limit, int(now.timestamp()) + 7200):
        deps.audit.record("queue.link_throttled", person.id, f"queue#{person.id}", {"limit": limit})
        return False
    chosen = Language.of(person.language) if person.language else (language or Language.of())
    deps.send(queue_email(person, queue_link(person.id, deps), chosen))
    deps.audit.record("queue.link_sent", person.id, f"queue#{person.id}", {"why": "requested"})
    return True


def queue_email(person: Person, url: str, language: Language) -> mail.Email:
    return render_email("queue_link", language, to=person.email, url=url)
