"""Thresholds from decisions: the label rules, the curve with its intervals, the suggestion, the audited change, and
the CLI's refusals. Pure: proposals and near-misses are items in memory, SSM and the trail are fakes."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

import pytest

from foureyes.dispatch.agreement import wilson
from foureyes.errors import BadRequest
from foureyes.matching import thresholds as t
from foureyes.matching.index import _evidence_hash
from foureyes.matching.score import MatchConfig, ScoredPair
from foureyes.store.models import NearMissItem, ProposalItem
from foureyes_cli import thresholds_cmd
from foureyes_cli.main import build_parser

CONFIG = MatchConfig()


def _proposal(pair: str, status: str, *, evidence: tuple[str, ...] = ("email",), score: float | None = None,
              hash_score: float | None = None, action: str = "tag_duplicate", review: tuple[str, str] | None = None,
              approval: tuple[str, str] | None = None, tiebreak: tuple[str, str] | None = None,
              proposed_at: str = "2026-03-01T10:00:00+00:00", **extra: Any) -> ProposalItem:
    """A stored proposal as the matcher makes it: its evidence hash from `hash_score` (default: the evidence's
    weight under the default configuration)."""
    weight = hash_score if hash_score is not None else CONFIG.weight_of(
        sum(1 << ("email", "phone", "name_yob", "name_fuzzy", "dob", "employer").index(e) for e in evidence))
    item = ProposalItem(f"p-{pair}-{proposed_at}", pair_key=pair, status=status, proposed_at=proposed_at,
                        system="otys", action=action, refs=pair.split("|"), payload={}, confidence=0.5,
                        reasoning="", evidence=list(evidence), evidence_hash=t.evidence_hash(evidence, weight),
                        score=score, **extra)
    for prefix, value in (("review", review), ("approval", approval), ("tiebreak", tiebreak)):
        if value:
            setattr(item, f"{prefix}_decision", value[0])
            setattr(item, f"{prefix}_reason", value[1])
    return item


def _near_miss(pair: str, score: float, promoted: bool = False) -> NearMissItem:
    return NearMissItem(pair, score=score, evidence=["name_yob", "dob"], first_seen="2026-03-01T00:00:00+00:00",
                        last_seen="2026-03-02T00:00:00+00:00", sightings=2, promoted=promoted, expires_at=2**40)


# -- label rules ---------------------------------------------------------------------------------------------------


def test_approved_is_same_rejected_as_different_people_is_not_other_rejections_are_counted() -> None:
    items = [
        _proposal("a:1|a:2", "executed", review=("approve", "same_person"), approval=("approve", "same_person")),
        _proposal("a:3|a:4", "shadowed"),
        _proposal("a:5|a:6", "rejected", review=("reject", "different_people"),
                  approval=("reject", "different_people")),
        _proposal("a:7|a:8", "rejected", review=("reject", "insufficient_evidence"),
                  approval=("reject", "insufficient_evidence")),
        _proposal("b:1|b:2", "rejected", review=("reject", "data_error"), approval=("reject", "other")),
        # reviewer and approver disagreed; the team lead's reason is the one that decided
        _proposal("b:3|b:4", "rejected", review=("reject", "different_people"), approval=("approve", "same_person"),
                  tiebreak=("reject", "data_error")),
        _proposal("b:5|b:6", "rejected", review=("approve", "same_person"),
                  approval=("reject", "insufficient_evidence"), tiebreak=("reject", "different_people")),
        _proposal("b:7|b:8", "approved", review=("approve", "same_person"), approval=("reject", "different_people"),
                  tiebreak=("approve", "same_person")),
        _proposal("c:1|c:2", "rolled_back"),
        _proposal("c:3|c:4", "pending_review"),
        # not the matcher's pair proposals: never labels, never counted
        _proposal("c:5|c:6", "executed", rollback_of="p-earlier"),
        _proposal("c:7|c:8", "executed", action="update_status"),
        _proposal("c:9|c:10", "executed", proposed_by="ops"),
    ]
    labels = t.label_pairs(items, lambda pair: None, [], CONFIG)
    by_pair = {label.pair: label.same for label in labels.labels}
    assert by_pair == {"a:1|a:2": True, "a:3|a:4": True, "a:5|a:6": False, "b:5|b:6": False, "b:7|b:8": True}
    assert labels.excluded == {"rejected: insufficient_evidence": 1, "rejected: data_error": 2,
                               "rolled back after execution": 1, "not decided (pending_review)": 1}
    assert all(label.source == t.DECISION and label.reviewed for label in labels.labels)


def test_the_score_is_stored_or_proven_by_the_evidence_hash_never_guessed() -> None:
    stored = _proposal("a:1|a:2", "executed", score=7.25, hash_score=99.0)
    derived = _proposal("a:3|a:4", "executed", evidence=("email", "phone"))  # 2.0 under the default weights
    promoted = _proposal("a:5|a:6", "executed", evidence=("name_yob", "dob"), hash_score=0.9)
    other_weights = _proposal("a:7|a:8", "executed", evidence=("email",), hash_score=1.3)  # weights changed since
    unknown_rule = _proposal("a:9|a:10", "executed", evidence=("surname_tf",), hash_score=4.2)  # another scorer
    near = {"a:5|a:6": _near_miss("a:5|a:6", 0.9, promoted=True)}
    labels = t.label_pairs([stored, derived, promoted, other_weights, unknown_rule], near.get, [], CONFIG)
    scores = {label.pair: (label.score, label.source) for label in labels.labels}
    assert scores == {"a:1|a:2": (7.25, t.DECISION), "a:3|a:4": (2.0, t.DECISION), "a:5|a:6": (0.9, t.PROMOTED)}
    assert sum(count for why, count in labels.excluded.items() if why.startswith("score unknown")) == 2


def test_the_formula_of_the_evidence_hash_is_the_matchers() -> None:
    pair = ScoredPair("otys:1", "otys:2", 1.9, "hard", ("email", "name_yob", "dob"))
    assert t.evidence_hash(pair.evidence, pair.score) == _evidence_hash(pair)


def test_recruiters_actions_label_pairs_for_recall_only() -> None:
    decided = [_proposal("a:1|a:2", "executed"),
               _proposal("a:3|a:4", "rejected", review=("reject", "different_people"),
                         approval=("reject", "different_people"))]
    open_one = _proposal("a:7|a:8", "pending_approval", evidence=("phone",))
    near = {"a:5|a:6": _near_miss("a:5|a:6", 0.8)}
    observed = ["a:1|a:2", "a:3|a:4", "a:5|a:6", "a:7|a:8", "a:9|a:10", "a:9|a:10"]
    labels = t.label_pairs(decided, near.get, observed, CONFIG,
                           lambda pair: [open_one] if pair == "a:7|a:8" else [])
    recruiter = {label.pair: label.score for label in labels.labels if label.source == t.OBSERVED}
    assert recruiter == {"a:5|a:6": 0.8, "a:7|a:8": 1.0, "a:9|a:10": None}
    assert all(not label.reviewed and label.same for label in labels.labels if label.source == t.OBSERVED)
    assert (labels.observed_agreeing, labels.observed_conflicting) == (1, 1)
    assert labels.reviewed == 2


def test_the_latest_decision_on_a_pair_counts() -> None:
    early = _proposal("a:1|a:2", "rejected", review=("reject", "different_people"),
                      approval=("reject", "different_people"), proposed_at="2026-01-01T00:00:00+00:00")
    late = _proposal("a:1|a:2", "executed", evidence=("email", "phone"), proposed_at="2026-02-01T00:00:00+00:00")
    for order in ([early, late], [late, early]):
        labels = t.label_pairs(order, lambda pair: None, [], CONFIG)
        assert [(label.same, label.score) for label in labels.labels] == [(True, 2.0)]


# -- the curve -----------------------------------------------------------------------------------------------------


def _labels() -> list[t.Label]:
    return [t.Label("1", 2.0, True, t.DECISION), t.Label("2", 2.0, True, t.DECISION),
            t.Label("3", 1.0, True, t.DECISION), t.Label("4", 1.0, False, t.DECISION),
            t.Label("5", 0.9, True, t.PROMOTED), t.Label("6", 0.9, False, t.PROMOTED),
            t.Label("7", 0.5, True, t.OBSERVED), t.Label("8", None, True, t.OBSERVED)]


def test_precision_and_recall_per_threshold() -> None:
    points = {p.threshold: p for p in t.curve(_labels(), [0.5, 0.9, 1.0, 2.0])}
    # six true pairs known: four reviewed "same", two named by recruiters (one never scored)
    assert {p.positives for p in points.values()} == {6}
    assert (points[2.0].decided, points[2.0].same, points[2.0].precision, points[2.0].found) == (2, 2, 1.0, 2)
    assert (points[1.0].decided, points[1.0].same, points[1.0].precision) == (4, 3, 0.75)
    assert points[1.0].recall == pytest.approx(3 / 6)
    assert (points[0.9].decided, points[0.9].precision, points[0.9].recall) == (6, pytest.approx(4 / 6), 4 / 6)
    # a recruiter's pair counts for recall, never for precision
    assert (points[0.5].decided, points[0.5].precision, points[0.5].recall) == (6, pytest.approx(4 / 6), 5 / 6)


def test_intervals_are_wilson_score_intervals() -> None:
    point = next(p for p in t.curve(_labels(), [1.0]))
    # 3 of 4, 95%: the textbook Wilson interval (0.301, 0.954)
    assert point.precision_low == pytest.approx(0.3006, abs=1e-4)
    assert point.precision_high == pytest.approx(0.9544, abs=1e-4)
    # recall 3 of 6: (0.188, 0.812)
    assert (point.recall_low, point.recall_high) == (pytest.approx(0.1876, abs=1e-4), pytest.approx(0.8124, abs=1e-4))
    empty = t.curve(_labels(), [5.0])[0]
    assert (empty.decided, empty.precision, empty.precision_low, empty.precision_high) == (0, None, 0.0, 1.0)


def test_candidate_thresholds_are_the_labelled_scores_thinned_plus_the_current_ones() -> None:
    assert t.candidate_thresholds(_labels(), (1.0, 1.6)) == [0.5, 0.9, 1.0, 1.6, 2.0]
    many = [t.Label(str(i), i / 10, True, t.DECISION) for i in range(100)]
    chosen = t.candidate_thresholds(many, (3.33,), max_points=10)
    assert len(chosen) == 11 and chosen[0] == 0.0 and chosen[-1] == 9.9 and 3.33 in chosen


def test_suggestions_use_the_lower_bound_and_say_when_labels_cannot_support_one() -> None:
    labels = ([t.Label(f"h{i}", 2.0, True, t.DECISION) for i in range(100)]
              + [t.Label(f"r{i}", 1.0, i < 30, t.DECISION) for i in range(40)]
              + [t.Label(f"n{i}", 0.8, i < 10, t.PROMOTED) for i in range(20)])
    points = t.curve(labels, t.candidate_thresholds(labels))
    # at 2.0: 100/100, lower bound 100/103.84 = 0.963; at 1.0: 130/140 (lower bound 0.87)
    suggestion = t.suggest(points)
    assert suggestion.review == 2.0 and suggestion.hard is None
    assert "3,838" in suggestion.hard_why
    assert t.suggest(points, review_target=0.85).review == 1.0
    assert t.needed_for(0.999) == 3838
    assert wilson(3838, 3838)[0] >= 0.999 > wilson(3837, 3837)[0]
    enough = labels + [t.Label(f"x{i}", 3.0, True, t.DECISION) for i in range(3838)]
    again = t.suggest(t.curve(enough, t.candidate_thresholds(enough)))
    # 3,938 "same" at >= 2.0: its lower bound clears 0.999; at 0.8 now 3,978 of 3,998 (lower bound 0.992)
    assert again.review == 0.8 and again.hard == 2.0


# -- the change -----------------------------------------------------------------------------------------------------


class FakeSsm:
    def __init__(self, value: dict[str, Any]) -> None:
        self.value = json.dumps(value)
        self.puts = 0

    def get_parameter(self, Name: str) -> dict[str, Any]:  # noqa: N803 (boto3's spelling)
        return {"Parameter": {"Name": Name, "Value": self.value}}

    def put_parameter(self, Name: str, Value: str, Type: str, Overwrite: bool) -> None:  # noqa: N803
        assert Overwrite and Type == "String"
        self.value = Value
        self.puts += 1


class FakeTrail:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, dict[str, Any]]] = []

    def record(self, event: str, actor: str, subject: str, details: Any = None) -> int:
        self.rows.append((event, actor, subject, dict(details or {})))
        return len(self.rows)


def test_apply_changes_only_the_thresholds_and_audits_old_and_new() -> None:
    ssm = FakeSsm({"scorer": "spec", "weights": {"email": 1.0, "phone": 1.0},
                   "thresholds": {"hard": 1.6, "review": 1.0}, "max_key_fanout": 40})
    trail = FakeTrail()
    change = t.change_thresholds(ssm, "/p", review=0.9, hard=None, reason="tuned from 212 decisions",
                                 operator="olivia", recorder=trail)
    assert (change.old_review, change.old_hard, change.new_review, change.new_hard) == (1.0, 1.6, 0.9, 1.6)
    stored = json.loads(ssm.value)
    assert stored == {"scorer": "spec", "weights": {"email": 1.0, "phone": 1.0}, "max_key_fanout": 40,
                      "review_threshold": 0.9, "hard_threshold": 1.6}
    config = MatchConfig.from_mapping(stored)
    assert (config.review_threshold, config.hard_threshold, config.max_key_fanout) == (0.9, 1.6, 40)
    [(event, actor, subject, details)] = trail.rows
    assert (event, actor, subject) == ("thresholds.changed", "olivia", "match-config")
    assert details["old"] == {"review_threshold": "1.0", "hard_threshold": "1.6"}
    assert details["new"] == {"review_threshold": "0.9", "hard_threshold": "1.6"}
    assert details["reason"] == "tuned from 212 decisions"


@pytest.mark.parametrize(("review", "hard", "reason", "says"), [
    (0.9, None, "  ", "--reason is required"),
    (None, None, "why", "--review and/or --hard"),
    (1.2, 1.1, "why", "--hard (1.1) must be >="),
    (None, 0.5, "why", "--hard (0.5) must be >="),  # below the current review threshold
    (-1.0, None, "why", "--review"),
])
def test_apply_refuses_and_changes_nothing(review: float | None, hard: float | None, reason: str, says: str) -> None:
    ssm = FakeSsm({"scorer": "spec", "hard_threshold": 1.6, "review_threshold": 1.0})
    trail = FakeTrail()
    with pytest.raises(BadRequest, match=says.replace("(", r"\(").replace(")", r"\)")):
        t.change_thresholds(ssm, "/p", review=review, hard=hard, reason=reason, operator="o", recorder=trail)
    assert ssm.puts == 0 and trail.rows == []


# -- the CLI and the chart -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("argv", "says"), [
    (["--review", "abc"], "--review must be a number"),
    (["--hard", "inf"], "--hard must be a number"),
    (["--since", "2026-13-01"], "--since must be a date"),
    (["--min-labels", "0"], "--min-labels must be a whole number"),
    (["--review-precision", "1.5"], "--review-precision must be a fraction"),
])
def test_bad_arguments_are_refused_naming_the_flag(argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
                                                   ) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["ops", "thresholds", *argv])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err


@pytest.mark.parametrize(("argv", "says"), [
    (["--review", "0.9"], "only with --apply"),
    (["--apply", "--review", "0.9"], "--reason is required"),
    (["--apply", "--reason", "x"], "--review and/or --hard"),
    (["--apply", "--review", "2", "--hard", "1", "--reason", "x"], "--hard (1) must be >= --review (2)"),
])
def test_inconsistent_flags_are_refused_before_any_stack_is_asked(argv: list[str], says: str,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["ops", "--local", "/nonexistent/endpoints.json", "thresholds", *argv])
    assert args.run(args) == 2
    err = capsys.readouterr().err
    assert says in err and "make local" not in err


def test_the_chart_is_one_html_page_with_an_svg_of_both_curves() -> None:
    labels = t.Labels(labels=_labels())
    points = t.curve(labels.labels, t.candidate_thresholds(labels.labels, (1.0, 1.6)))
    suggestion = t.suggest(points, review_target=0.2)
    page = thresholds_cmd.chart_html(points, (1.0, 1.6), suggestion, labels, datetime(2026, 3, 1, tzinfo=UTC))
    svg = ET.fromstring(page[page.index("<svg"):page.index("</svg>") + 6])
    ns = "{http://www.w3.org/2000/svg}"
    lines = {line.get("class"): line.get("points", "").split() for line in svg.iter(f"{ns}polyline")}
    assert len(lines["precision"]) == sum(1 for p in points if p.precision is not None)
    assert len(lines["recall"]) == len(points)
    assert len(list(svg.iter(f"{ns}polygon"))) == 2  # the two interval bands
    assert suggestion.review is not None and suggestion.hard is None  # eight labels cannot support a hard one
    assert sum(1 for m in svg.iter(f"{ns}line") if m.get("class") == "mark") == 3  # review, hard now; review suggested
    # higher precision is drawn higher (smaller y): the curve follows the numbers
    ys = [float(pair.split(",")[1]) for pair in lines["precision"]]
    precisions = [p.precision for p in points if p.precision is not None]
    drawn = list(zip(precisions, ys, strict=True))
    assert all((a < b) == (ya > yb) for (a, ya), (b, yb) in zip(drawn, drawn[1:], strict=False) if a != b)
    assert "a:1" not in page and page.count("<tr>") == len(points) + 1


def test_publish_sends_one_series_per_point_and_metric() -> None:
    sent: list[dict[str, Any]] = []

    class FakeCloudWatch:
        def put_metric_data(self, Namespace: str, MetricData: list[dict[str, Any]]) -> None:  # noqa: N803
            assert Namespace == "Foureyes" and len(MetricData) <= 20
            sent.extend(MetricData)

    points = t.curve(_labels(), [0.5, 0.9, 1.0, 2.0, 5.0])
    thresholds_cmd.publish(FakeCloudWatch(), "Foureyes", points)
    by_point: dict[str, dict[str, float]] = {}
    for datum in sent:
        point = next(d["Value"] for d in datum["Dimensions"] if d["Name"] == "point")
        by_point.setdefault(point, {})[datum["MetricName"]] = datum["Value"]
    assert sorted(by_point) == ["p01", "p02", "p03", "p04", "p05"]
    assert by_point["p03"] == {"ThresholdValue": 1.0, "ThresholdDecided": 4, "ThresholdPrecision": 0.75,
                               "ThresholdPrecisionLow": pytest.approx(0.3006, abs=1e-4), "ThresholdRecall": 0.5}
    assert "ThresholdPrecision" not in by_point["p05"] and not math.isnan(by_point["p05"]["ThresholdRecall"])


# -- refining the calibrated scorer's m from the decisions ---------------------------------------------------------


def _fs_labels(same: int, different: int) -> t.Labels:
    """Reviewed pairs with the calibrated scorer's evidence: `same` decided one person (an e-mail in common, the name
    one letter apart), `different` decided different people (namesakes born the same day)."""
    one = ("email:exact", "name:one_edit", "dob:typo")
    two = ("email:different", "name:exact", "dob:exact")
    yes, no = ("approve", "same_person"), ("reject", "different_people")
    items = [_proposal(f"a:{i}|b:{i}", "approved", evidence=one, score=9.0, hash_score=9.0, review=yes, approval=yes)
             for i in range(same)]
    items += [_proposal(f"c:{i}|d:{i}", "rejected", evidence=two, score=4.0, hash_score=4.0, review=no, approval=no)
              for i in range(different)]
    return t.label_pairs(items, lambda pair: None, (), CONFIG)


def test_refine_writes_m_from_the_decisions_into_the_configuration_and_audits_it() -> None:
    ssm = FakeSsm({"thresholds": {"hard": 9, "review": 4}, "max_key_fanout": 40})
    trail = FakeTrail()
    labels = _fs_labels(60, 20)
    assert labels.labels[0].evidence == ("email:exact", "name:one_edit", "dob:typo")
    refined = t.refine_parameters(ssm, "/p", labels, reason="60 approvals since March", operator="olivia",
                                  recorder=trail)
    assert (refined.decided, refined.same) == (80, 60)
    stored = MatchConfig.from_mapping(json.loads(ssm.value))
    assert stored.thresholds == (4, 9) and stored.max_key_fanout == 40  # nothing else changed
    before, after = CONFIG.fs, stored.fs
    assert after.weight_of("name", "one_edit") > before.weight_of("name", "one_edit")  # approved: moves up
    assert after.weight_of("dob", "exact") < before.weight_of("dob", "exact")  # absent from the approved pairs
    assert after.u == before.u and "refined from 80 decisions (60 same person)" in after.source
    [(event, actor, subject, details)] = trail.rows
    assert (event, actor, subject) == ("match_params.refined", "olivia", "match-config")
    assert details["same"] == "60" and details["reason"] == "60 approvals since March"


@pytest.mark.parametrize(("config", "same", "reason", "says"), [
    ({}, 10, "why", "at least 30 reviewed pairs"),
    ({}, 60, " ", "--reason is required"),
    ({"scorer": "spec"}, 60, "why", "spec scorer"),
])
def test_refine_refuses_and_changes_nothing(config: dict[str, Any], same: int, reason: str, says: str) -> None:
    ssm = FakeSsm(config)
    trail = FakeTrail()
    with pytest.raises(BadRequest, match=says):
        t.refine_parameters(ssm, "/p", _fs_labels(same, 5), reason=reason, operator="o", recorder=trail)
    assert ssm.puts == 0 and trail.rows == []


def test_refine_and_apply_are_one_change_at_a_time() -> None:
    both = ["ops", "thresholds", "--refine", "--apply", "--review", "3", "--reason", "x"]
    alone = ["ops", "thresholds", "--refine"]
    for argv, says in ((alone, "--reason is required with --refine"), (both, "one at a time")):
        args = build_parser().parse_args(argv)
        with pytest.raises(BadRequest, match=says):
            thresholds_cmd.check(args)
