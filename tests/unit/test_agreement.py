"""Shadow-mode agreement: human actions read off record versions, the agreement maths, the Wilson interval."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from foureyes.ats import calls
from foureyes.ats.registry import adapter_for
from foureyes.dispatch.agreement import Observation, Proposed, agreement, observe, parse_marker, totals, wilson
from foureyes.model import Candidate

DAY = "2026-11-24"
TAG, MERGE, STATUS = "tag_duplicate", "merge_candidates", "update_status"


def bullhorn(record_id: str = "101", **raw: Any) -> Candidate:
    record = {"id": int(record_id), "status": "Active", "dateLastModified": 1795996800000,  # 2026-11-30 UTC
              "customText19": None, "customText20": None, **raw}
    return Candidate("bullhorn", record_id, status=str(record["status"]), raw=record)


def otys(uid: str = "7", **raw: Any) -> Candidate:
    record = {"uid": uid, "status": "Beschikbaar", "tags": [], "externalIds": [],
              "lastModified": "2026-11-24T09:30:00", **raw}
    return Candidate("otys", uid, status=str(record["status"]), raw=record)


def carerix(cid: str = "c-3", **raw: Any) -> Candidate:
    record = {"id": cid, "status": "active", "tags": [], "links": [], "lastModifiedAt": "2026-11-23T23:30:00-02:00",
              **raw}
    return Candidate("carerix", cid, status=str(record["status"]), raw=record)


# -- observe --------------------------------------------------------------------------------------------------


def test_a_new_bullhorn_tag_in_the_semicolon_field_is_a_duplicate_tag() -> None:
    before = bullhorn(customText20="vip; foureyes-duplicate-of:otys:9")
    after = bullhorn(customText20="vip; foureyes-duplicate-of:otys:9;Duplicate-Of:bullhorn:202")
    assert observe(before, after) == [Observation("bullhorn", "bullhorn:101", TAG, "bullhorn:202", "2026-11-30")]


def test_a_bullhorn_link_with_a_short_marker_names_a_record_of_the_same_system() -> None:
    after = bullhorn(customText19="MERGED_WITH:202")
    assert observe(bullhorn(), after, day=DAY) == [Observation("bullhorn", "bullhorn:101", MERGE, "bullhorn:202", DAY)]


def test_markers_are_case_insensitive_and_reformatting_one_is_not_a_new_action() -> None:
    before = otys(tags=["dup:12"])
    assert observe(before, otys(tags=["DUP:12"])) == []
    assert observe(before, otys(tags=["dup:12", "Duplicate-of:OTYS:13"])) == [
        Observation("otys", "otys:7", TAG, "otys:13", DAY)]
    assert observe(otys(), otys(externalIds=["Merged-With:Carerix:c-44"])) == [
        Observation("otys", "otys:7", MERGE, "carerix:c-44", DAY)]


def test_our_own_markers_are_not_human_actions() -> None:
    """The loop guard: what Foureyes wrote comes back through pulls and webhooks and must be ignored."""
    target = bullhorn()
    body = adapter_for("bullhorn").tag_duplicate(target, "otys:9")["body"]
    assert observe(target, bullhorn(**body)) == []
    merge = adapter_for("bullhorn").merge_candidates(target, "otys:9")["steps"][0]["body"]
    assert observe(target, bullhorn(**merge)) == []
    ours = otys(tags=["foureyes-duplicate-of:otys:8"], externalIds=["FOUREYES-merged-with:otys:8"])
    assert observe(otys(), ours) == []
    assert observe(carerix(), carerix(tags=["foureyes-duplicate-of:carerix:c-9"],
                                      links=["foureyes-merged-with:bullhorn:1"])) == []
    assert observe(None, otys(tags=["foureyes-duplicate-of:otys:8"])) == []


def test_nothing_is_observed_when_only_the_modification_stamp_moved() -> None:
    before = otys(tags=["dup:12"], lastModified="2026-11-20T08:00:00")
    assert observe(before, otys(tags=["dup:12"], lastModified="2026-11-24T08:00:00")) == []
    assert observe(bullhorn(), bullhorn(dateLastModified=1796000000000)) == []


def test_status_changes_to_duplicate_statuses_only() -> None:
    assert observe(carerix(), carerix(status="Duplicate")) == [
        Observation("carerix", "carerix:c-3", STATUS, "", "2026-11-24")]  # 23:30 at -02:00 is the 24th in UTC
    assert observe(otys(), otys(status="Dubbel")) == [Observation("otys", "otys:7", STATUS, "", DAY)]
    assert observe(otys(), otys(status="Geplaatst")) == []
    assert observe(otys(status="duplicate"), otys(status="DUPLICATE")) == []  # only the case changed
    assert observe(None, otys(status="Archived")) == []  # first sight: a status is not a change


def test_removed_markers_and_self_references_are_not_actions() -> None:
    assert observe(otys(tags=["dup:12"]), otys()) == []
    assert observe(otys(), otys(tags=["duplicate-of:otys:7"])) == []
    assert observe(otys(), otys(tags=["duplicate: yes", "dup:", "duplicate-of:nowhere:12", "urgent"])) == []


def test_a_record_seen_first_with_a_marker_counts() -> None:
    assert observe(None, carerix(links=["merged-with:carerix:c-8"])) == [
        Observation("carerix", "carerix:c-3", MERGE, "carerix:c-8", "2026-11-24")]


def test_new_human_notes_about_duplicates() -> None:
    note = {"id": 5, "comments": "Dubbele kandidaat, zie otys:99", "action": "Call"}
    ours = {"id": 6, "comments": "Soft merge by Foureyes: linked with otys:9 (no record deleted).",
            "action": calls.NOTE_ACTION}
    unrelated = {"id": 7, "comments": "Called, no answer", "action": "Call"}
    before = bullhorn(notes=[unrelated])
    after = bullhorn(notes=[unrelated, note, ours])
    assert observe(before, after, day=DAY) == [Observation("bullhorn", "bullhorn:101", TAG, "otys:99", DAY)]
    assert observe(after, after) == []
    merged = bullhorn(notes=["Merged this candidate by hand"])
    assert observe(bullhorn(), merged, day=DAY) == [Observation("bullhorn", "bullhorn:101", MERGE, "", DAY)]


def test_one_edit_with_several_signs_gives_each_once() -> None:
    after = otys(status="Duplicate", tags=["dup:12", "duplicate-of:otys:12"])
    assert observe(otys(), after) == [Observation("otys", "otys:7", TAG, "otys:12", DAY),
                                      Observation("otys", "otys:7", STATUS, "", DAY)]


@pytest.mark.parametrize(("token", "expected"), [
    ("duplicate-of:otys:1", (TAG, "otys:1")),
    ("Duplicate Of = Bullhorn:22", (TAG, "bullhorn:22")),
    ("dup:9", (TAG, "carerix:9")),
    ("samengevoegd-met:otys:4", (MERGE, "otys:4")),
    ("foureyes-duplicate-of:otys:1", None),
    ("duplicate-of:", None),
    ("vip", None),
])
def test_parse_marker(token: str, expected: tuple[str, str] | None) -> None:
    assert parse_marker("carerix", token) == expected


# -- Wilson -----------------------------------------------------------------------------------------------------


def test_wilson_known_values() -> None:
    low, high = wilson(94, 100)
    assert low == pytest.approx(0.8752, abs=5e-4) and high == pytest.approx(0.9722, abs=5e-4)
    low, high = wilson(71, 100)
    assert low == pytest.approx(0.6146, abs=5e-4) and high == pytest.approx(0.7899, abs=5e-4)
    assert wilson(0, 10)[0] == 0.0 and wilson(0, 10)[1] == pytest.approx(0.2775, abs=5e-4)
    assert wilson(10, 10)[1] == pytest.approx(1.0) and wilson(10, 10)[0] == pytest.approx(0.7225, abs=5e-4)
    assert wilson(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(("successes", "trials"), [(94, 100), (71, 100), (3, 7), (0, 1), (250, 251)])
def test_wilson_agrees_with_scipy_when_installed(successes: int, trials: int) -> None:
    stats = pytest.importorskip("scipy.stats")
    interval = stats.binomtest(successes, trials).proportion_ci(confidence_level=0.95, method="wilson")
    # scipy uses the exact normal quantile (1.95996...), we use 1.96 as the spec says
    assert wilson(successes, trials) == pytest.approx((interval.low, interval.high), abs=2e-4)


@given(st.integers(min_value=1, max_value=5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_contains_the_proportion(case: tuple[int, int]) -> None:
    successes, trials = case
    low, high = wilson(successes, trials)
    assert 0.0 <= low <= successes / trials <= high <= 1.0


# -- agreement ----------------------------------------------------------------------------------------------------


def shadowed(pid: str, pair: str, action: str = TAG, system: str = "otys", day: str = DAY,
             status: str = "shadowed") -> Proposed:
    return Proposed(system, pid, pair, action, status, day)


def seen(ref: str, other: str, action: str = TAG, day: str = DAY) -> Observation:
    return Observation(ref.split(":")[0], ref, action, other, day)


def test_agreement_counts_agreed_false_proposals_and_misses() -> None:
    proposals = [shadowed("p1", "otys:1|otys:2"), shadowed("p2", "otys:3|otys:4"),
                 shadowed("p3", "otys:5|otys:6", MERGE)]
    observations = [seen("otys:2", "otys:1"),  # the other order of the same pair
                    seen("otys:6", "otys:5", TAG),  # a tag agrees with a merge (same person)
                    seen("otys:8", "otys:9")]  # missed
    [row] = agreement(observations, proposals)
    assert (row.system, row.day, row.agreed, row.proposals, row.observed_only, row.total) == ("otys", DAY, 2, 3, 1, 4)
    assert row.rate == 0.5
    assert (row.wilson_low, row.wilson_high) == wilson(2, 4)


def test_rejected_and_open_proposals_never_count() -> None:
    proposals = [shadowed("p1", "otys:1|otys:2", status="rejected"), shadowed("p2", "otys:3|otys:4", status="approved")]
    [row] = agreement([seen("otys:1", "otys:2")], proposals)
    assert (row.agreed, row.proposals, row.observed_only) == (0, 0, 1)
    assert agreement([], proposals) == []


def test_rows_per_system_and_day_and_matching_across_days() -> None:
    proposals = [shadowed("p1", "bullhorn:1|otys:2", system="bullhorn", day="2026-11-23"),
                 shadowed("p2", "otys:3|otys:4", day="2026-11-24")]
    observations = [seen("otys:2", "bullhorn:1", MERGE, day="2026-11-25"),  # a recruiter in Otys, two days later
                    seen("carerix:1", "carerix:2", day="2026-11-24")]
    rows = agreement(observations, proposals)
    assert [(r.day, r.system, r.agreed, r.proposals, r.observed_only) for r in rows] == [
        ("2026-11-23", "bullhorn", 1, 1, 0), ("2026-11-24", "carerix", 0, 0, 1), ("2026-11-24", "otys", 0, 1, 0)]
    [bull, carx, ots] = totals(rows)
    assert (bull.system, bull.day, bull.rate) == ("bullhorn", "all", 1.0)
    assert (carx.rate, ots.rate) == (0.0, 0.0)


def test_the_same_decision_counts_once() -> None:
    proposals = [shadowed("p1", "otys:1|otys:2"), shadowed("p2", "otys:2|otys:1", MERGE, day="2026-11-26")]
    observations = [seen("otys:1", "otys:2"), seen("otys:2", "otys:1", MERGE),
                    seen("otys:1", "otys:2", day="2026-11-25")]
    [row] = agreement(observations, proposals)
    assert (row.day, row.agreed, row.proposals, row.observed_only) == (DAY, 1, 1, 0)


def test_actions_naming_no_record_fold_into_a_pair_on_that_record_or_count_as_misses() -> None:
    proposals = [shadowed("p1", "otys:1|otys:2")]
    observations = [seen("otys:1", "", STATUS), seen("otys:2", "otys:1"),  # same edit as the pair: folded
                    seen("otys:5", "", STATUS)]  # a record no pair touches: missed
    [row] = agreement(observations, proposals)
    assert (row.agreed, row.proposals, row.observed_only) == (1, 1, 1)


def test_a_proposal_nobody_acted_on_is_a_disagreement() -> None:
    [row] = agreement([], [shadowed("p1", "otys:1|otys:2")])
    assert (row.agreed, row.total, row.rate) == (0, 1, 0.0)
