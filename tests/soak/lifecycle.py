"""A fault-injecting, property-based lifecycle test (a Hypothesis rule-based state machine).

Random interleavings of proposals, review decisions (by the assignee, by someone else, with a forged or
stale link, twice at once), timeouts, pause/unpause, shadow on/off, facts (by people and by an ATS),
rollbacks, candidates contesting how their data is handled (a first objection, a second one joining it,
forged, expired, stale or wrong-kind links) and team leads deciding contests (uphold or dismiss; someone
else, a demoted team lead, a forged or stale link, a review that is no contest), dispatch and its faults (the
ATS down or failing, a process dying before or after the ATS wrote, SES failures, SendTaskSuccess failures, a
crash between storing a proposal and starting its execution or right after storing it, a contest arriving
between the dispatcher's read and its claim or after its claim, a crash while a decided contest is applied,
StopExecution failing). After every step the invariants hold:

(a) no ATS write without two distinct, non-excluded approvals or a fact a person entered;
(b) nothing written while paused, once pause returned;
(c) after the repair jobs ran, every proposal is terminal, held by a live execution, parked, or held by a
    contest that waits for its team lead;
(d) the daily cap is never exceeded;
(e) the audit trail verifies;
(f) no ATS write of a proposal about a record while a contest about it is open (its submit returned, no team
    lead has decided it): not of what its submission said it held, nor of any other proposal about the record
    but those its submission said were already being sent (claimed by a dispatch before the hold);
(g) a proposal a contest held, or any open proposal about its record, is never written once a team lead
    upheld that contest (withdrawn: ever after);
(h) a contest is decided only by a team lead through their own link (the store shows exactly the decisions
    the model saw), opened only through a genuine, unexpired contest link with its form's nonce, and never
    causes an ATS write itself (none while a contest entry point runs, and never a contest's own).

Each is checked against the model's own record (who decided what, when pause or a contest submission
returned, what it said it held), at the moment of each ATS write (`world.FakeAts`) or after each step.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import timedelta
from unittest.mock import patch

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from foureyes import links
from foureyes.dispatch import dispatcher, facts, retry
from foureyes.errors import FoureyesError
from foureyes.ingest import candidates as ingest
from foureyes.model import Action, Candidate, Decision, parse_iso
from foureyes.review import contest, decide, proposals, sweep
from foureyes.review.lifecycle import ProposalStatus
from foureyes.review.people import People
from foureyes.review.rollback import propose_rollback
from foureyes.scheduling import booking
from foureyes.scheduling.cancellation import cancel_by_candidate, cancel_from_ats, expire_holds
from foureyes.scheduling.outcome import record_outcome
from foureyes.scheduling.stage import StageChange, on_stage_change
from foureyes.store.models import ReviewTaskItem
from tests.soak.scheduling import ROLE
from tests.soak.world import CONTEST, LINK_SECRET, OPEN, SYSTEMS, Crash, InjectedFault, World, new_proposal

FAULTS = ("ses", "start_crash", "resume_fail", "ats_down", "ats_error", "ats_crash_before_write",
          "ats_crash_after_write", "finish_crash", "create_crash", "settle_crash", "stop_fail",
          "contest_mid_dispatch", "contest_mid_write")
PEOPLE_IDS = ("anna", "bram", "carla", "tess", "theo")
NOT_PEOPLE = ("ats:otys", "system", "kill-switch", "mallory")
REASONS = tuple(decide.REASON_CODES)
CONTEST_REFS = tuple(f"{system}:{n}" for system in SYSTEMS for n in range(1, 7))  # the records proposals name
# How the candidate posts the form: their own link and its page's nonce, or what must be refused.
SUBMIT_HOWS = ("own", "own", "own", "both", "forged", "expired", "stale", "wrong_kind", "no_text")
# How a contest decision is posted: the team lead's own link, or what must be refused.
DECIDE_HOWS = ("own", "own", "own", "twice", "other", "demoted", "forged", "stale", "not_a_contest")


class Tally:
    """Steps, faults and what happened across every example of a run (the soak prints them)."""

    steps = 0
    faults = 0
    seen: Counter[str] = Counter()


def expected(call: object) -> None:
    """Run one public entry point: refusals (4xx/5xx the user sees) and injected faults are fine."""
    try:
        call()  # type: ignore[operator]
    except (FoureyesError, InjectedFault, Crash):
        pass


def repair(world: World) -> None:
    """What runs on its own to resume stranded work: the sweeper, and the retry of parked writes."""
    world.clock.advance(minutes=10)  # the sweeper's schedule (and its grace for unheard decisions)
    sweep.sweep(sweep.Deps(world.proposals, world.tasks, world.workflow, world.trail, world.clock,
                           sleep=lambda _seconds: None))
    # The retry: nightly (paused or not: the dispatcher parks what may not go out), and after every unpause.
    functions = json.dumps({system: f"dispatch-{system}" for system in SYSTEMS})
    with patch.dict(os.environ, {"DISPATCH_FUNCTIONS": functions}):
        retry.retry_parked(world.proposals, world._hand_over)


class Lifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.world = World()

    @initialize()
    def start(self) -> None:
        self.world = World()

    # --- the matcher proposes ---------------------------------------------------------------------------
    @rule(system=st.sampled_from(SYSTEMS), left=st.integers(1, 6), right=st.integers(1, 6))
    def propose(self, system: str, left: int, right: int) -> None:
        if left == right:
            return
        new = new_proposal(self.world, system, left, right)
        expected(lambda: proposals.submit(new, self.world.submit_deps))

    # --- ATS records arrive: out of order, again, with hostile versions -----------------------------------
    @rule(record=st.integers(1, 3), day=st.integers(1, 28), status=st.sampled_from(("Interview", "Placed", "New")),
          version=st.sampled_from(("iso", "iso", "iso", "missing", "hostile")))
    def deliver(self, record: int, day: int, status: str, version: str) -> None:
        """A webhook or pull delivers one record; only a newer version may change anything or trigger anything."""
        world = self.world
        stamp = {"iso": f"2026-11-{day:02d}T09:00:00+01:00", "missing": None,
                 "hostile": "9" * 400}[version]
        raw = {"lastModified": stamp, "status": status, "role_id": ROLE}
        candidate = Candidate("otys", str(record), first_name="Anouk", last_name="Jansen", status=status,
                              emails=(f"cand-{record}@example.org",), raw=raw)
        before = len(world.candidates.changes)
        stored = ingest.save(candidate, "webhook", records=world.candidates)
        normalised = ingest.version_of(candidate)
        latest = world.delivered.get(candidate.ref, "")
        if stored and normalised and latest and normalised <= latest:
            world.violations.append(f"(v) {candidate.ref}: version {normalised} stored over {latest}")
        if normalised and normalised > latest:
            world.delivered[candidate.ref] = normalised
        for old, new in world.candidates.changes[before:]:  # what the stream carries: a stage change
            if new.status == "Interview" and (old is None or old.status != new.status):
                change = StageChange("otys", new.record_id, "Interview", ROLE, "ats:otys",
                                     f"{new.ref}:{new.source_version}", candidate.emails[0])
                expected(lambda c=change: on_stage_change(c, world.scheduling.deps))

    # --- faults -------------------------------------------------------------------------------------------
    @rule(kind=st.sampled_from(FAULTS))
    def arm_fault(self, kind: str) -> None:
        self.world.faults.armed.add(kind)

    @rule(kinds=st.sets(st.sampled_from(FAULTS), min_size=2))
    def arm_faults(self, kinds: set[str]) -> None:
        self.world.faults.armed.update(kinds)

    # --- the state machine runs a task, or a stage times out -----------------------------------------------
    @rule(pick=st.integers(0, 1000))
    def run_task(self, pick: int) -> None:
        pending = [e for e in self.world.workflow.executions.values() if e.live and e.pending]
        if pending:
            execution = pending[pick % len(pending)]
            expected(lambda: self.world.workflow.run_task(execution))

    @rule(pick=st.integers(0, 1000))
    def time_out(self, pick: int) -> None:
        waiting = [e for e in self.world.workflow.executions.values() if e.live and e.token is not None]
        if waiting:
            self.world.workflow.time_out(waiting[pick % len(waiting)])

    # --- people decide (or try to) -------------------------------------------------------------------------
    @rule(pick=st.integers(0, 1000), verdict=st.sampled_from(("approve", "reject")),
          fits=st.sampled_from((True, True, True, False)),
          how=st.sampled_from(("own", "own", "own", "other", "forged", "stale", "twice")),
          other=st.sampled_from(PEOPLE_IDS))
    def decide(self, pick: int, verdict: str, fits: bool, how: str, other: str) -> None:
        world = self.world
        reasons = decide.REASONS_FOR[Decision(verdict)]
        reason = reasons[pick % len(reasons)] if fits else REASONS[pick % len(REASONS)]
        note = "" if pick % 5 == 0 else "explained"
        tasks = world.pending_tasks()
        if not tasks:
            return
        task = tasks[pick % len(tasks)]
        holder = task.assignee
        if how == "other":
            holder = other
            token = world.link_for(task, person=other)
        elif how == "forged":
            token = world.link_for(task, secret=b"guessed-secret")
        else:
            token = world.link_for(task)
        nonce = "stale-nonce" if how == "stale" else task.nonce
        before = world.tasks.get(task.proposal_id, task.stage)
        expected(lambda: decide.decide(token, verdict, reason, nonce, world.review_deps, note=note))
        if how == "twice":
            expected(lambda: decide.decide(token, verdict, reason, nonce, world.review_deps, note=note))
        after = world.tasks.get(task.proposal_id, task.stage)
        if before is not None and before.status == "pending" and after is not None and after.status != "pending":
            world.approvals.setdefault(task.proposal_id, []).append((task.stage, holder, str(after.decision)))

    @rule(verdict=st.sampled_from(("approve", "approve", "approve", "reject")))
    def review_round(self, verdict: str) -> None:
        """Busy reviewers: every waiting task runs, and every open stage is decided by its assignee."""
        world = self.world
        for _round in range(3):
            for execution in [e for e in world.workflow.executions.values() if e.live and e.pending]:
                expected(lambda e=execution: world.workflow.run_task(e))
            for task in world.pending_tasks():
                self.decide(0, verdict, True, "own", task.assignee)

    # --- the candidate contests; a team lead decides ------------------------------------------------------
    @rule(ref=st.sampled_from(CONTEST_REFS), pick=st.integers(0, 1000),
          choice=st.sampled_from(tuple(contest.CHOICES)), how=st.sampled_from(SUBMIT_HOWS))
    def candidate_contests(self, ref: str, pick: int, choice: str, how: str) -> None:
        """A candidate posts the contest form of a link e-mailed about a record (mostly one an open proposal names;
        a second objection joins the open contest); a forged, expired, wrong-kind link, a stale form or a missing
        text is refused, changing nothing."""
        world = self.world
        named = sorted({r for i in world.proposals.items.values()
                        if i.status in OPEN and i.action != CONTEST and not i.fact for r in i.refs or []})
        if named and pick % 4:
            ref = named[pick % len(named)]
        if how == "both":  # both records of one open proposal are contested (each by its own candidate)
            pairs = sorted(tuple(i.refs) for i in world.proposals.items.values()
                           if i.status in OPEN and i.action != CONTEST and not i.fact and len(i.refs or []) == 2)
            for each in pairs[pick % len(pairs)] if pairs else (ref,):
                self.candidate_contests(each, 0, choice, "own")
            return
        text = "I never applied there." if choice == contest.TEXT_REQUIRED else ""
        if how == "own":
            submitted = world.submit_contest(ref, choice, text)
            Tally.seen.update(contests_joined=int(bool(submitted and submitted.joined)))
            return
        now_ms = int(world.clock().timestamp() * 1000)
        token = {"forged": lambda: world.contest_link(ref, secret=b"guessed-secret"),
                 "expired": lambda: world.contest_link(ref, ttl=3600, age_seconds=7200),
                 "wrong_kind": lambda: links.sign({"k": "booking", "c": ref}, LINK_SECRET, 3600, now_ms=now_ms),
                 }.get(how, lambda: world.contest_link(ref))()
        nonce = "stale-nonce" if how == "stale" else contest.form_nonce(token, world.contest_deps)
        if how == "no_text":
            choice, text = contest.TEXT_REQUIRED, "  "
        before = world.snapshot()
        submitted = world.submit_contest(ref, choice, text, token=token, nonce=nonce)
        if submitted is not None or world.snapshot() != before:
            world.violations.append(f"(h) a contest submission with a {how} link or form was not refused")
        Tally.seen.update(contest_refused=1)

    @rule(ref=st.sampled_from(CONTEST_REFS), pick=st.integers(0, 1000),
          choice=st.sampled_from(tuple(contest.CHOICES)), how=st.sampled_from(SUBMIT_HOWS))
    def candidate_contests_too(self, ref: str, pick: int, choice: str, how: str) -> None:
        self.candidate_contests(ref, pick, choice, how)  # a second rule: contests come up more often

    @rule(pick=st.integers(0, 1000), choice=st.sampled_from(tuple(contest.CHOICES)))
    def contest_again(self, pick: int, choice: str) -> None:
        """A second objection about a record whose contest is open: it joins that contest."""
        world = self.world
        refs = sorted({c.ref for c in world.contests.values() if c.open})
        if refs:
            self.candidate_contests(refs[pick % len(refs)], 0, choice, "own")

    @rule(pick=st.integers(0, 1000), decision=st.sampled_from((contest.UPHOLD, contest.DISMISS)),
          how=st.sampled_from(DECIDE_HOWS), other=st.sampled_from(PEOPLE_IDS))
    def team_lead_decides(self, pick: int, decision: str, how: str, other: str) -> None:
        """A team lead upholds or dismisses an open contest through their link; someone else's link, a forged or
        stale one, a team lead who is no longer one, or the contest decision posted on an ordinary review are
        refused."""
        world = self.world
        wanted = how != "not_a_contest"
        waiting = [e for e in world.workflow.executions.values() if e.live and e.pending and e.state == "contest"]
        if wanted and waiting:  # the state machine's Contest task runs first: a team lead gets the link
            execution = waiting[pick % len(waiting)]
            expected(lambda: world.workflow.run_task(execution))
        tasks = [t for t in world.pending_tasks() if (world.proposals.items[t.proposal_id].action == CONTEST) == wanted]
        if tasks:
            self.post_contest_decision(tasks[pick % len(tasks)], pick, decision, how, other)

    def post_contest_decision(self, task: ReviewTaskItem, pick: int, decision: str, how: str, other: str) -> None:
        world = self.world
        reasons = contest.REASONS_FOR[decision]
        reason = reasons[pick % len(reasons)]
        note = "explained" if reason == "other" or pick % 3 == 0 else ""
        holder = other if how == "other" else task.assignee
        token = (world.link_for(task, person=other) if how == "other"
                 else world.link_for(task, secret=b"guessed-secret") if how == "forged" else world.link_for(task))
        nonce = "stale-nonce" if how == "stale" else task.nonce
        people = world.people
        if how == "demoted":  # the directory changed: the assignee is no team lead any more
            world.people = People(people.recruiters, tuple(p for p in people.team_leads if p.id != holder))
        leads = {lead.id for lead in world.people.team_leads}
        try:
            won = world.decide_contest(task, decision, reason, note, token, nonce, holder)
            if how == "twice":
                won = world.decide_contest(task, decision, reason, note, token, nonce, holder) or won
        finally:
            world.people = people
        refused = how in {"demoted", "forged", "stale", "not_a_contest"} or (how == "other" and other != task.assignee)
        if won and (refused or holder not in leads):
            world.violations.append(f"(h) contest {task.proposal_id} decided by {holder} ({how}); only a team "
                                    "lead's own link decides")
        Tally.seen.update({f"contest_{decision}" if won else "contest_decision_refused": 1})

    @rule(pick=st.integers(0, 1000))
    def contest_round(self, pick: int) -> None:
        """Busy team leads: every waiting Contest task runs, and every open contest is decided by its assignee."""
        world = self.world
        for execution in [e for e in world.workflow.executions.values() if e.live and e.pending]:
            if execution.state == "contest":
                expected(lambda e=execution: world.workflow.run_task(e))
        for n, task in enumerate(world.pending_tasks()):
            if world.proposals.items[task.proposal_id].action == CONTEST:
                decision = (contest.UPHOLD, contest.DISMISS)[(pick >> n) & 1]
                self.post_contest_decision(task, pick, decision, "own", task.assignee)

    # --- ops: pause, shadow, the clock -----------------------------------------------------------------------
    @rule(paused=st.booleans())
    def pause(self, paused: bool) -> None:
        world = self.world
        world.switches.is_paused = paused
        world.paused = paused  # the command returned
        if not paused:
            expected(lambda: repair(world))

    @rule(shadow=st.booleans())
    def shadow(self, shadow: bool) -> None:
        self.world.switches.shadow = shadow

    @rule(hours=st.sampled_from((1, 6, 25)))
    def advance_clock(self, hours: int) -> None:
        self.world.clock.advance(hours=hours)

    # --- facts, rollbacks, the asynchronous hand-over -------------------------------------------------------
    @rule(system=st.sampled_from(SYSTEMS), record=st.integers(1, 6), by=st.sampled_from(PEOPLE_IDS + NOT_PEOPLE))
    def enter_fact(self, system: str, record: int, by: str) -> None:
        world = self.world
        call = {"op": "note", "id": f"note-{len(world.proposals.items)}-{record}"}
        world.fact_entries.append((call, by, f"{system}:{record}"))
        expected(lambda: facts.submit_fact(system, str(record), Action.CREATE_NOTE, call, by, world.fact_deps))

    @rule(pick=st.integers(0, 1000), requester=st.integers(0, 5))
    def propose_rollback(self, pick: int, requester: int) -> None:
        world = self.world
        done = sorted(p for p, i in world.proposals.items.items()
                      if i.status == ProposalStatus.EXECUTED.value and not i.fact)
        if not done:
            return
        original = done[pick % len(done)]
        approvers = sorted({p for _s, p, v in world.approvals.get(original, []) if v == "approve"}) or ["anna"]
        who = approvers[requester % len(approvers)]
        before = set(world.proposals.items)

        def run() -> None:
            propose_rollback(original, who, "undo it", world.submit_deps, world.dispatches)

        expected(run)
        for new in set(world.proposals.items) - before:
            world.excluded[new] = set(approvers) | {who}

    @rule(pick=st.integers(0, 1000), requester=st.integers(0, 5))
    def propose_rollback_again(self, pick: int, requester: int) -> None:
        self.propose_rollback(pick, requester)  # a second rule: rollbacks come up more often

    # --- scheduling: stage changes, candidates' links, the ATS cancelling, outcomes --------------------------
    @rule(record=st.integers(1, 3), good_address=st.sampled_from((True, True, True, False)))
    def stage_change(self, record: int, good_address: bool) -> None:
        scheduling = self.world.scheduling
        scheduling.changes += 1
        address = f"cand-{record}@example.org" if good_address else f"cand-{record}@example.org\nBcc: x@evil.example"
        change = StageChange("otys", str(record), "Interview", ROLE, "ats:otys", f"otys:{record}:{scheduling.changes}",
                             address)
        expected(lambda: on_stage_change(change, scheduling.deps))

    @rule(record=st.integers(1, 3), pick=st.integers(0, 1000), slot=st.integers(0, 1000),
          action=st.sampled_from(("hold", "confirm", "confirm", "cancel", "view")))
    def use_link(self, record: int, pick: int, slot: int, action: str) -> None:
        """A candidate uses any link they were ever sent (current, replaced, manage) on any slot offered to them."""
        scheduling = self.world.scheduling
        tokens = scheduling.links_to(f"cand-{record}@example.org")
        if not tokens:
            return
        token = tokens[pick % len(tokens)]
        requests = scheduling.store.requests_for_candidate(f"otys:{record}")
        slots = [s.slot_id for r in requests for s in scheduling.store.slots(r.request_id)]
        slot_id = slots[slot % len(slots)] if slots else "20261203T0900Z"
        deps = scheduling.deps
        run = {"hold": lambda: booking.hold(token, slot_id, deps),
               "confirm": lambda: booking.confirm(token, slot_id, deps),
               "cancel": lambda: cancel_by_candidate(token, deps),
               "view": lambda: booking.view(token, deps)}[action]
        expected(run)

    @rule(record=st.integers(1, 3), slot=st.integers(0, 1000))
    def candidate_books(self, record: int, slot: int) -> None:
        """The usual path: the newest link, a slot of the newest open request, hold then confirm."""
        scheduling = self.world.scheduling
        tokens = scheduling.links_to(f"cand-{record}@example.org")
        requests = [r for r in scheduling.store.requests_for_candidate(f"otys:{record}") if r.status == "open"]
        if not tokens or not requests:
            return
        slots = [s.slot_id for s in scheduling.store.slots(requests[-1].request_id)]
        if not slots:
            return
        slot_id, deps = slots[slot % len(slots)], scheduling.deps
        expected(lambda: booking.hold(tokens[-1], slot_id, deps))
        expected(lambda: booking.confirm(tokens[-1], slot_id, deps))

    @rule(record=st.integers(1, 3))
    def ats_cancels(self, record: int) -> None:
        scheduling = self.world.scheduling
        expected(lambda: cancel_from_ats("otys", str(record), ROLE, "ats:otys", scheduling.deps))

    @rule(record=st.integers(1, 3), outcome=st.sampled_from(("hired", "not_hired")),
          by=st.sampled_from(("iv-1", "hm-1", "rec-1", "ats:otys", "mallory")))
    def record_outcome(self, record: int, outcome: str, by: str) -> None:
        scheduling = self.world.scheduling
        for request in scheduling.store.requests_for_candidate(f"otys:{record}"):
            expected(lambda r=request: record_outcome(r.request_id, outcome, by, scheduling.deps))

    @rule(pick=st.integers(0, 1000), outcome=st.sampled_from(("hired", "hired", "not_hired")))
    def interview_takes_place(self, pick: int, outcome: str) -> None:
        """Time passes to just after a booked interview's start, and its hiring manager records the outcome."""
        world = self.world
        scheduling = world.scheduling
        confirmed = sorted((b for b in scheduling.store.bookings.values() if b.status == "confirmed"),
                           key=lambda b: b.booking_id)
        if not confirmed:
            return
        booked = confirmed[pick % len(confirmed)]
        start = parse_iso(booked.start)
        if world.clock() < start:
            world.clock.now = start + timedelta(minutes=5)
        expected(lambda: record_outcome(booked.request_id, outcome, "hm-1", scheduling.deps))

    @rule()
    def expire_holds(self) -> None:
        expected(lambda: expire_holds(self.world.scheduling.deps))

    @precondition(lambda self: bool(self.world.async_queue))
    @rule(pick=st.integers(0, 1000))
    def run_hand_over(self, pick: int) -> None:
        world = self.world
        system, proposal_id, attempts = world.async_queue.pop(pick % len(world.async_queue))
        try:
            dispatcher.dispatch(proposal_id, system, world.dispatch_deps)
        except (Crash, Exception):
            if attempts < 2:  # Lambda retries an asynchronous invoke twice
                world.async_queue.append((system, proposal_id, attempts + 1))

    @rule()
    def scheduled_repair(self) -> None:
        expected(lambda: repair(self.world))  # the sweeper's schedule, faults and all

    # --- let everything run to rest, then nothing may be stranded --------------------------------------------
    @rule()
    def settle(self) -> None:
        world = self.world
        world.faults.armed.clear()
        for _ in range(200):
            pending = [e for e in world.workflow.executions.values() if e.live and e.pending]
            if not pending and not world.async_queue:
                break
            for execution in pending:
                expected(lambda e=execution: world.workflow.run_task(e))
            while world.async_queue:
                self.run_hand_over(0)
        repair(world)
        while world.async_queue:
            self.run_hand_over(0)
        world.violations.extend(world.stranded())

    # --- invariants ---------------------------------------------------------------------------------------
    @invariant()
    def safe(self) -> None:
        Tally.steps += 1
        assert not self.world.violations, self.world.violations

    @invariant()
    def one_booking_per_slot_and_per_candidate_and_role(self) -> None:
        problems = self.world.scheduling.violations()
        assert not problems, problems

    @invariant()
    def versions_only_move_forward(self) -> None:
        for ref, latest in self.world.delivered.items():
            stored = self.world.candidates.get(ref)
            assert stored is not None and stored.source_version == latest, (ref, latest, stored and
                                                                            stored.source_version)

    @invariant()
    def contests_decided_only_by_team_leads(self) -> None:
        problems = self.world.contest_problems()
        assert not problems, problems

    @invariant()
    def audit_verifies(self) -> None:
        _count, problems = self.world.trail.verify()
        assert not problems, problems

    def teardown(self) -> None:
        """Every example ends at rest: everything runs out, and then nothing may be stranded either."""
        world = self.world
        self.settle()
        assert not world.violations, world.violations
        Tally.faults += world.faults.fired
        Tally.seen.update(f"status:{item.status}" for item in world.proposals.items.values())
        Tally.seen.update(f"booking:{b.status}" for b in world.scheduling.store.bookings.values())
        Tally.seen.update(f"request:{r.status}" for r in world.scheduling.store.requests.values())
        Tally.seen.update(facts_written=sum(1 for i in world.proposals.items.values()
                                            if i.fact and i.status == ProposalStatus.EXECUTED.value))
        Tally.seen.update(f"writes:{write.system}" for write in world.writes)
        Tally.seen.update(contests_opened=sum(1 for c in world.contests.values() if c.opened),
                          contest_held=sum(len(c.held) for c in world.contests.values()),
                          contest_already_sent=sum(len(c.already_sent) for c in world.contests.values()),
                          contest_held_at_end=sum(1 for i in world.proposals.items.values()
                                                  if i.held_by and i.status != ProposalStatus.WITHDRAWN.value))
        Tally.seen.update(examples=1, rollbacks=sum(1 for i in world.proposals.items.values()
                                                                   if i.rollback_of))
