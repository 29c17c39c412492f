"""Status reconciliation and stale/contradictory flags: the configuration, each rule, every refusal, and the
matcher submitting them (in-memory repositories) once per disagreement."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from foureyes.ats.registry import adapter_for
from foureyes.errors import StatusConfigError
from foureyes.matching import crosscheck, index
from foureyes.matching.crosscheck import Basis, Side, flag_proposals, proposals_for, status_proposals
from foureyes.matching.score import MatchConfig
from foureyes.matching.statuses import StatusConfig
from foureyes.model import Action, Candidate
from foureyes.review import proposals, rules
from foureyes.review.lifecycle import ProposalStatus
from foureyes.review.proposals import NewProposal
from foureyes.store.models import ProposalItem
from foureyes_local.cfn import load_template
from tests.support.memory import (
    Clock,
    MemoryCandidates,
    MemoryMatchKeys,
    MemoryNearMisses,
    MemoryProposals,
    RecordingWorkflow,
    memory_trail,
)

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
BASIS = Basis("hard match on email, phone", 1.0, ())


def template_config() -> dict[str, Any]:
    """The default the template ships (the SSM parameter's value)."""
    value = load_template(ROOT / "template.yaml")["Resources"]["StatusConfigParameter"]["Properties"]["Value"]
    parsed: dict[str, Any] = json.loads(value)
    return parsed


@pytest.fixture(scope="module")
def config() -> StatusConfig:
    return StatusConfig.from_mapping(template_config())


def side(ref: str, status: str, days_ago: float | None = 1, dob: date | None = None) -> Side:
    changed = NOW - timedelta(days=days_ago) if days_ago is not None else None
    return Side(ref, status, changed, dob.toordinal() if dob else 0)


# -- configuration ------------------------------------------------------------------------------------------


def test_the_template_default_is_valid_and_makes_bullhorn_the_source_of_truth_for_placed(config: StatusConfig) -> None:
    assert config.enabled and config.source_of_truth == {"placed": "bullhorn"}
    assert config.canonical("otys", "  available ") == "available"  # case and spacing do not matter
    assert config.canonical("bullhorn", "Interview Scheduled") == "in_process"
    assert config.canonical("otys", "Rejected by client") == "rejected"
    assert config.canonical("otys", "Something else") is None
    assert config.target_status("otys", "placed") == "Placed"
    assert config.target_status("carerix", "in_process") == "Interview"  # derived: the first word listed


@pytest.mark.parametrize(("change", "field"), [
    ({"colour": "blue"}, "'colour'"),
    ({"statuses": {"workday": {"Hired": "placed"}}}, "'statuses.workday'"),
    ({"statuses": {"otys": {"Hired": "hired"}}}, "'statuses.otys.Hired'"),
    ({"statuses": {"otys": {"Rejected": "available"}}}, "'statuses.otys.Rejected'"),
    ({"statuses": {"otys": {"Placed": "placed", "PLACED": "available"}}}, "'statuses.otys.PLACED'"),
    ({"write_as": {"otys": {"inactive": "Inactive"}}}, "'write_as.otys.inactive'"),
    ({"write_as": {"otys": {"rejected": "Rejected by client"}}}, "'write_as.otys.rejected'"),
    ({"write_as": {"otys": {"archived": "Archived"}}}, "'write_as.otys.archived'"),
    ({"write_as": {"otys": {"placed": "Hired"}}}, "'write_as.otys.placed'"),
    ({"write_as": {"otys": {"placed": "Available"}}}, "'write_as.otys.placed'"),
    ({"source_of_truth": {"rejected": "otys"}}, "'source_of_truth.rejected'"),
    ({"source_of_truth": {"inactive": "bullhorn"}}, "'source_of_truth.inactive'"),
    ({"source_of_truth": {"placed": "workday"}}, "'source_of_truth.placed'"),
    ({"stale_after_days": 0}, "'stale_after_days'"),
    ({"stale_after_days": "365"}, "'stale_after_days'"),
    ({"recent_within_days": 400}, "'recent_within_days'"),
    ({"flags": {"shoe_size": True}}, "'flags.shoe_size'"),
    ({"flags": {"stale": "yes"}}, "'flags.stale'"),
    ({"enabled": "true"}, "'enabled'"),
])
def test_a_bad_configuration_is_refused_naming_the_field(change: dict[str, Any], field: str) -> None:
    data = {**template_config(), **change}
    if "statuses" in change:  # keep the other systems' words, replace one system's
        data["statuses"] = {**template_config()["statuses"], **change["statuses"]}
        data["write_as"] = {}
    with pytest.raises(StatusConfigError) as refused:
        StatusConfig.from_mapping(data)
    assert field in str(refused.value)


def test_not_an_object_is_refused() -> None:
    with pytest.raises(StatusConfigError, match="JSON object"):
        StatusConfig.from_mapping(["placed"])


def test_never_proposed_statuses_are_refused_in_code_whatever_the_configuration(config: StatusConfig) -> None:
    for canonical in ("inactive", "rejected", "archived"):
        with pytest.raises(StatusConfigError, match="never proposes"):
            config.target_status("otys", canonical)
    # A configuration built around the validation still cannot write a refused word.
    forged = StatusConfig(statuses={"otys": {"rejected by client": "placed"}},
                          write_as={"otys": {"placed": "Rejected by client"}}, source_of_truth={"placed": "otys"})
    with pytest.raises(StatusConfigError, match="never proposes"):
        forged.target_status("otys", "placed")
    archiving = StatusConfig(statuses={"otys": {"placed": "placed"}, "carerix": {"new": "available"}},
                             write_as={"carerix": {"placed": "Archived"}}, source_of_truth={"placed": "otys"})
    with pytest.raises(StatusConfigError, match="never proposes"):  # the matcher logs it and proposes nothing
        status_proposals(side("otys:1", "Placed"), side("carerix:2", "New"), BASIS, archiving)
    assert not config.allows_payload("otys", adapter_for("otys").update_status(Candidate("otys", "1"), "Inactive"))
    assert not config.allows_payload("otys", {"method": "no status at all"})
    assert config.allows_payload("otys", adapter_for("otys").update_status(Candidate("otys", "1"), "Placed"))


def test_a_standing_rule_cannot_turn_a_status_proposal_into_a_rejection(config: StatusConfig) -> None:
    [new] = status_proposals(side("bullhorn:1", "Placed"), side("otys:2", "Available"), BASIS, config)
    sneaky = rules.parse_rules([{"name": "reject instead", "when": {"action": "update_status"},
                                 "defaults": {"payload": {"params": [None, {"status": "Rejected by client"}]}}},
                                {"name": "say more", "when": {"action": "update_status"},
                                 "defaults": {"reasoning": "Checked weekly."}}])
    kept = crosscheck.with_rules(new, sneaky, config)
    assert kept is not None and kept.payload == new.payload and kept.reasoning == new.reasoning
    harmless = rules.parse_rules([{"name": "say more", "when": {"action": "update_status"},
                                   "defaults": {"reasoning": "Checked weekly."}}])
    ruled = crosscheck.with_rules(new, harmless, config)
    assert ruled is not None and ruled.reasoning.endswith("Checked weekly.")


# -- status alignment -----------------------------------------------------------------------------------------


def test_placed_in_the_source_of_truth_aligns_the_other_system(config: StatusConfig) -> None:
    bullhorn, otys = side("bullhorn:11", "Placed", days_ago=20), side("otys:OT5", "Available")
    for a, b in ((bullhorn, otys), (otys, bullhorn)):
        [new] = proposals_for(a, b, BASIS, config, NOW)
        assert new.action is Action.UPDATE_STATUS and new.system == "otys"
        assert new.refs == ("otys:OT5", "bullhorn:11")
        assert new.payload == adapter_for("otys").update_status(Candidate("otys", "OT5"), "Placed")
        assert new.diff == {"target": "otys:OT5", "before": {"status": "Available"}, "after": {"status": "Placed"}}
        assert new.reasoning.startswith(
            "Placed in Bullhorn (Bullhorn record 11 says 'Placed', last changed 2026-11-12); "
            "Otys record OT5 says 'Available'.")
        assert "hard match on email, phone" in new.reasoning
        assert new.pair_key == "status|otys:OT5|bullhorn:11"
    first = status_proposals(bullhorn, otys, BASIS, config)[0]
    assert status_proposals(otys, bullhorn, BASIS, config)[0].proposal_id == first.proposal_id  # one per disagreement
    moved = status_proposals(bullhorn, side("otys:OT5", "New"), BASIS, config)[0]
    assert moved.proposal_id != first.proposal_id and moved.evidence_hash != first.evidence_hash


@pytest.mark.parametrize(("left", "right"), [
    (("otys:1", "Placed"), ("bullhorn:2", "Available")),  # Otys is not the source of truth for placed
    (("bullhorn:1", "Placed"), ("otys:2", "Interview")),  # an open application is flagged, never overwritten
    (("bullhorn:1", "Placed"), ("otys:2", "Rejected by client")),  # a person's rejection is left alone
    (("bullhorn:1", "Placed"), ("otys:2", "Inactive")),
    (("bullhorn:1", "Placed"), ("bullhorn:2", "Available")),  # one system: not a cross-system disagreement
    (("bullhorn:1", "Placed"), ("otys:2", "Somewhere else")),  # not in the vocabulary
    (("bullhorn:1", "Placed"), ("otys:2", "placed")),  # agree (case does not matter)
    (("bullhorn:1", "Available"), ("otys:2", "New")),  # agree (both available)
])
def test_no_status_proposal(config: StatusConfig, left: tuple[str, str], right: tuple[str, str]) -> None:
    assert status_proposals(side(*left), side(*right), BASIS, config) == []


def test_two_sources_of_truth_that_disagree_are_left_to_people() -> None:
    data = {**template_config(), "source_of_truth": {"placed": "bullhorn", "available": "otys"}}
    both = StatusConfig.from_mapping(data)
    assert status_proposals(side("bullhorn:1", "Placed"), side("otys:2", "Available"), BASIS, both) == []
    [new] = status_proposals(side("carerix:3", "Placed"), side("otys:2", "Available"), BASIS, both)
    assert new.system == "carerix" and new.diff["after"] == {"status": "Available"}


def test_reconciliation_can_be_switched_off(config: StatusConfig) -> None:
    off = StatusConfig.from_mapping({**template_config(), "enabled": False})
    assert proposals_for(side("bullhorn:1", "Placed"), side("otys:2", "Available"), BASIS, off, NOW) == []


# -- flags ---------------------------------------------------------------------------------------------------


def test_different_dates_of_birth_flag_the_record_changed_less_recently(config: StatusConfig) -> None:
    older = side("otys:OT7", "Available", days_ago=90, dob=date(1990, 4, 12))
    newer = side("carerix:C9", "Available", days_ago=2, dob=date(1990, 12, 4))
    [note] = flag_proposals(newer, older, BASIS, config, NOW)
    assert note.action is Action.CREATE_NOTE and note.system == "otys" and note.refs == ("otys:OT7", "carerix:C9")
    text = note.diff["after"]["note"]
    assert note.payload == adapter_for("otys").create_note(Candidate("otys", "OT7"), text)
    assert "Carerix record C9" in text and "differ (the day and month)" in text
    for value in ("1990", "12-04", "04-12", "12/04", "4 December"):  # no value of either date of birth
        assert value not in text and value not in note.reasoning
    year = flag_proposals(older, side("carerix:C9", "Available", days_ago=2, dob=date(1991, 4, 12)), BASIS, config,
                          NOW)[0]
    assert "(the year)" in year.diff["after"]["note"]
    assert flag_proposals(older, side("carerix:C9", "Available", days_ago=2, dob=date(1990, 4, 12)), BASIS, config,
                          NOW) == []
    assert flag_proposals(older, side("carerix:C9", "Available", days_ago=2), BASIS, config, NOW) == []


def test_placed_here_and_in_process_there_flags_the_open_application(config: StatusConfig) -> None:
    [note] = flag_proposals(side("bullhorn:1", "Placed"), side("otys:2", "Interview"), BASIS, config, NOW)
    assert note.system == "otys" and note.refs == ("otys:2", "bullhorn:1")
    assert "Bullhorn record 1 of the same person" in note.diff["after"]["note"]
    assert "'Interview' (in process)" in note.diff["after"]["note"]
    # Within one system too, and whichever side is placed.
    [same] = flag_proposals(side("otys:3", "In process"), side("otys:4", "placed"), BASIS, config, NOW)
    assert same.refs == ("otys:3", "otys:4")


def test_a_stale_record_beside_a_recent_one_is_flagged_once(config: StatusConfig) -> None:
    stale, recent = side("carerix:C1", "Available", days_ago=400), side("otys:O1", "Available", days_ago=3)
    [note] = flag_proposals(recent, stale, BASIS, config, NOW)
    assert note.system == "carerix" and "last changed on 2025-10-28" in note.diff["after"]["note"]
    assert note.pair_key == "flag:stale|carerix:C1"
    again = flag_proposals(stale, side("bullhorn:B1", "Available", days_ago=1), BASIS, config, NOW)[0]
    assert again.proposal_id == note.proposal_id  # one stale flag per record, whichever recent record shows it
    assert flag_proposals(stale, side("otys:O1", "Available", days_ago=60), BASIS, config, NOW) == []
    assert flag_proposals(side("carerix:C1", "Available", days_ago=None), recent, BASIS, config, NOW) == []
    future = side("otys:O1", "Available", days_ago=-400)  # a version from the future is not "recent"
    assert flag_proposals(stale, future, BASIS, config, NOW) == []


def test_flags_can_be_switched_off_one_by_one() -> None:
    quiet = StatusConfig.from_mapping({**template_config(), "flags": {"dob_conflict": False, "stale": False}})
    a = side("otys:1", "Available", days_ago=500, dob=date(1990, 1, 1))
    b = side("carerix:2", "Available", days_ago=1, dob=date(1991, 1, 1))
    assert flag_proposals(a, b, BASIS, quiet, NOW) == []


# -- in the matcher (in-memory repositories) ---------------------------------------------------------------------


class World:
    def __init__(self, config: StatusConfig | None = None) -> None:
        self.proposals = MemoryProposals()
        self.workflow = RecordingWorkflow()
        self.clock = Clock(NOW)
        self.trail, self.rows = memory_trail()
        self.candidates = MemoryCandidates()
        self.config: Any = config or StatusConfig.from_mapping(template_config())
        submitting = proposals.Deps(self.proposals, self.workflow, self.trail, self.clock)
        check = crosscheck.Deps(self.candidates, submitting, lambda: (), lambda: self._config(), self.clock)
        self.deps = index.Deps(MemoryMatchKeys(), MemoryNearMisses(), submitting, lambda: (), self.clock,
                               crosscheck=check)

    def _config(self) -> StatusConfig:
        if isinstance(self.config, Exception):
            raise self.config
        return self.config  # type: ignore[no-any-return]

    def arrive(self, candidate: Candidate, version: str) -> index.MatchOutcome:
        """Ingest stores the record, then the stream hands it to the matcher."""
        self.candidates.put_version(candidate, source="webhook", version=version, at=version)
        return index.match(candidate, MatchConfig(), deps=self.deps)

    def of(self, action: Action) -> list[ProposalItem]:
        return [p for p in self.proposals.items.values() if p.action == action.value]


def person(system: str, record_id: str, status: str, modified: str, **kw: Any) -> Candidate:
    """One record of Noor El Amrani; `modified` (naive UTC ISO) goes where the system keeps its version."""
    stamp: Any = modified
    if system == "bullhorn":  # epoch milliseconds
        stamp = int(datetime.fromisoformat(modified).replace(tzinfo=UTC).timestamp() * 1000)
    base: dict[str, Any] = {"first_name": "Noor", "last_name": "El Amrani", "emails": ("noor.elamrani@kpnmail.nl",),
                            "phones": ("06 4173 2958",), "dob": date(1994, 6, 3)}
    raw = {"id": record_id, adapter_for(system).version_field: stamp}
    return Candidate(system=system, record_id=record_id, status=status, raw=raw, **{**base, **kw})


def test_the_matcher_proposes_the_alignment_once_and_not_again_after_a_rejection() -> None:
    world = World()
    world.arrive(person("bullhorn", "11", "Placed", "2026-11-20T10:00:00"), "2026-11-20T10:00:00.000000Z")
    outcome = world.arrive(person("otys", "OT5", "Available", "2026-12-01T10:00:00"), "2026-12-01T10:00:00.000000Z")
    assert outcome.proposed == 1 and outcome.crosschecked == 1  # the merge, and the status alignment
    [status] = world.of(Action.UPDATE_STATUS)
    assert status.system == "otys" and status.status == ProposalStatus.PENDING_REVIEW.value
    assert status.payload == adapter_for("otys").update_status(Candidate("otys", "OT5"), "Placed")
    assert status.proposal_id in world.workflow.started  # its own four-eyes review
    assert any(row.event == "proposal.created" and row.subject == status.proposal_id for row in world.rows.everything())
    assert world.of(Action.CREATE_NOTE) == []  # same date of birth, both recent

    again = world.arrive(person("otys", "OT5", "Available", "2026-12-01T11:00:00", employer="KPN"),
                         "2026-12-01T11:00:00.000000Z")
    assert again.crosschecked == 0 and len(world.of(Action.UPDATE_STATUS)) == 1  # open: not proposed twice

    world.proposals.set_status(status.proposal_id, ProposalStatus.REJECTED.value, "rejected")
    world.arrive(person("otys", "OT5", "Available", "2026-12-01T12:00:00", employer="ASML"),
                 "2026-12-01T12:00:00.000000Z")
    assert len(world.of(Action.UPDATE_STATUS)) == 1  # rejected on the same evidence: not again

    world.arrive(person("otys", "OT5", "New", "2026-12-01T13:00:00"), "2026-12-01T13:00:00.000000Z")
    assert len(world.of(Action.UPDATE_STATUS)) == 2  # a new disagreement (Otys now says "New")


def test_a_pair_the_reviewers_approved_counts_as_one_person() -> None:
    world = World()
    email_only = {"phones": (), "first_name": "Iris", "last_name": "Kok", "dob": None}
    world.arrive(person("bullhorn", "21", "Placed", "2026-11-20T10:00:00", **email_only), "2026-11-20T10:00:00.000000Z")
    # the same address and only an initial: for review (the same address and the same full name is a hard match)
    email_only["first_name"] = "I."
    world.arrive(person("carerix", "C21", "Available", "2026-12-01T10:00:00", **email_only),
                 "2026-12-01T10:00:00.000000Z")
    [tag] = world.of(Action.TAG_DUPLICATE)  # a review-level pair: not yet known to be one person
    assert world.of(Action.UPDATE_STATUS) == []
    world.proposals.set_status(tag.proposal_id, ProposalStatus.SHADOWED.value, "approved by two people")
    world.arrive(person("carerix", "C21", "Available", "2026-12-01T11:00:00", **email_only, employer="KPN"),
                 "2026-12-01T11:00:00.000000Z")
    [status] = world.of(Action.UPDATE_STATUS)
    assert status.system == "carerix" and f"approved them as duplicates in proposal {tag.proposal_id}" in \
        status.reasoning


def test_contradictions_become_notes_without_personal_data() -> None:
    world = World()
    world.arrive(person("otys", "OT8", "Interview", "2025-06-01T10:00:00", dob=date(1994, 6, 3)),
                 "2025-06-01T10:00:00.000000Z")
    world.arrive(person("bullhorn", "31", "Placed", "2026-12-01T10:00:00", dob=date(1994, 3, 6)),
                 "2026-12-01T10:00:00.000000Z")
    notes = world.of(Action.CREATE_NOTE)
    assert sorted(n.evidence[0] for n in notes) == ["flag:dob_conflict", "flag:placed_elsewhere", "flag:stale"]
    assert {n.system for n in notes} == {"otys"} and world.of(Action.UPDATE_STATUS) == []
    for note in notes:
        shown = json.dumps([note.payload, note.diff, note.reasoning])
        for personal in ("Noor", "Amrani", "noor.", "4173", "2958", "1994", "06-03", "03-06"):
            assert personal not in shown, personal


def test_a_bad_configuration_skips_the_cross_check_not_the_matching() -> None:
    world = World()
    world.config = StatusConfigError("status config field 'write_as.otys.inactive': never proposed")
    world.arrive(person("bullhorn", "41", "Placed", "2026-11-20T10:00:00"), "2026-11-20T10:00:00.000000Z")
    outcome = world.arrive(person("otys", "OT41", "Available", "2026-12-01T10:00:00"), "2026-12-01T10:00:00.000000Z")
    assert outcome.proposed == 1 and outcome.crosschecked == 0
    assert world.of(Action.MERGE_CANDIDATES) and world.of(Action.UPDATE_STATUS) == []


def test_without_its_deps_the_matcher_does_no_cross_check() -> None:
    world = World()
    plain = index.Deps(world.deps.keys, world.deps.near_misses, world.deps.proposals, lambda: (), world.clock)
    world.deps = plain
    world.arrive(person("bullhorn", "51", "Placed", "2026-11-20T10:00:00"), "2026-11-20T10:00:00.000000Z")
    world.arrive(person("otys", "OT51", "Available", "2026-12-01T10:00:00"), "2026-12-01T10:00:00.000000Z")
    assert world.of(Action.UPDATE_STATUS) == [] and world.of(Action.MERGE_CANDIDATES)


def test_new_proposal_shape_is_what_submit_takes(config: StatusConfig) -> None:
    [new] = status_proposals(side("bullhorn:1", "Placed"), side("otys:2", "Available"), BASIS, config)
    assert isinstance(new, NewProposal) and len(new.proposal_id) == 24 and len(new.evidence_hash) == 16


def test_reads_one_stored_record_per_same_person_neighbour_and_nothing_otherwise() -> None:
    world = World()
    reads: list[str] = []
    real_get = world.candidates.get
    world.candidates.get = lambda ref: (reads.append(ref), real_get(ref))[1]  # type: ignore[method-assign]
    world.arrive(person("bullhorn", "61", "Placed", "2026-11-20T10:00:00"), "2026-11-20T10:00:00.000000Z")
    assert reads == []  # no neighbour
    world.arrive(person("carerix", "C61", "Available", "2026-12-01T10:00:00", phones=(), first_name="N."),
                 "2026-12-01T10:00:00.000000Z")
    assert reads == []  # a review-level pair nobody approved: not known to be one person
    world.arrive(person("otys", "OT61", "Available", "2026-12-01T10:00:00"), "2026-12-01T10:00:00.000000Z")
    assert reads == ["bullhorn:61"]  # the hard neighbour only


def test_shadowed_alignments_and_flags_stay_out_of_the_duplicate_agreement_measure(config: StatusConfig) -> None:
    from foureyes.dispatch import agreement

    class Kept:
        def __init__(self) -> None:
            self.items: list[Any] = []

        def put_once(self, item: Any) -> bool:
            self.items.append(item)
            return True

        def in_partition(self, day_system: str) -> list[Any]:
            return []

    store = Kept()
    bullhorn, otys = side("bullhorn:1", "Placed"), side("otys:2", "Interview", dob=date(1990, 1, 1))
    for new in proposals_for(bullhorn, otys, BASIS, config, NOW) + status_proposals(
            bullhorn, side("otys:3", "Available"), BASIS, config):
        item = ProposalItem(new.proposal_id, pair_key=new.pair_key, status="shadowed", proposed_at="2026-12-02",
                            system=new.system, action=new.action.value, refs=list(new.refs), payload=new.payload,
                            confidence=1, reasoning=new.reasoning)
        assert not agreement.record_shadow_decision(item, store=store)
    duplicate = ProposalItem("d1", pair_key="bullhorn:1|otys:2", status="shadowed", proposed_at="2026-12-02",
                             system="bullhorn", action="tag_duplicate", refs=["bullhorn:1", "otys:2"], payload={},
                             confidence=1, reasoning="same e-mail")
    assert agreement.record_shadow_decision(duplicate, store=store) and len(store.items) == 1
