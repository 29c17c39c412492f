"""`foureyes ops thresholds`: precision and recall per threshold from people's decisions, a chart of the curve, the
curve on the ops dashboard, a suggestion, and (with `--apply` and a reason) the change itself.

The chart is one HTML file with an inline SVG written here, not a plotting library: two lines with their interval
bands and a few markers are ~80 lines of SVG, open in any browser, diff as text, and need no matplotlib (with its
native wheels) in an ops tool. Only numbers are written: no pair, record id or name.
"""

from __future__ import annotations

import argparse
import getpass
import json
import math
from collections.abc import Sequence
from datetime import UTC, date, datetime
from html import escape
from pathlib import Path
from typing import Any

from foureyes.errors import BadRequest, FoureyesError

_POINT_METRICS = ("ThresholdValue", "ThresholdDecided", "ThresholdPrecision", "ThresholdPrecisionLow",
                  "ThresholdRecall")


def _number(flag: str) -> Any:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{flag} must be a number on the scorer's scale, not {text!r}")
        return value
    return parse


def _share(flag: str) -> Any:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not 0 < value < 1:
            raise argparse.ArgumentTypeError(f"{flag} must be a fraction between 0 and 1 (e.g. 0.95), not {text!r}")
        return value
    return parse


def _count(flag: str) -> Any:
    def parse(text: str) -> int:
        if not text.isdigit() or int(text) < 1:
            raise argparse.ArgumentTypeError(f"{flag} must be a whole number >= 1, not {text!r}")
        return int(text)
    return parse


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--since must be a date YYYY-MM-DD, not {text!r}") from exc


def add_parser(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # Defaults are None and filled in from foureyes.matching.thresholds by `run`: importing the domain here would
    # slow every `foureyes` command's start.
    parser = actions.add_parser(
        "thresholds", help="precision/recall per threshold from reviewers' decisions, near-miss promotions and "
                           "recruiters' own merges; a chart; suggested thresholds; --apply changes them (audited)")
    parser.add_argument("--out", type=Path, help="write the curve as an HTML file with an inline SVG chart")
    parser.add_argument("--since", type=_day, help="only proposals made and recruiters' actions seen since this day "
                                                   "(after a scorer change: scores on the new scale only)")
    parser.add_argument("--days", type=_count("--days"),
                        help="recruiters' actions of the last N days (default 90; --since wins)")
    parser.add_argument("--min-labels", type=_count("--min-labels"),
                        help="reviewed pairs needed before saying anything (default 30)")
    parser.add_argument("--review-precision", type=_share("--review-precision"),
                        help="suggest the lowest review threshold whose precision's 95%% lower bound is at least "
                             "this (default 0.95)")
    parser.add_argument("--hard-precision", type=_share("--hard-precision"),
                        help="the same for the hard threshold (default 0.999)")
    parser.add_argument("--no-publish", action="store_true",
                        help="do not publish the curve to the ops dashboard (CloudWatch metrics)")
    parser.add_argument("--apply", action="store_true",
                        help="change the thresholds to --review and/or --hard (needs --reason; audited)")
    parser.add_argument("--review", type=_number("--review"), help="with --apply: the new review threshold")
    parser.add_argument("--hard", type=_number("--hard"), help="with --apply: the new hard threshold")
    parser.add_argument("--refine", action="store_true",
                        help="fold the reviewers' decisions into the calibrated scorer's m probabilities and write "
                             "them into the match configuration (needs --reason; audited; at least 30 pairs decided "
                             "to be one person)")
    parser.add_argument("--reason", default="", help="with --apply or --refine: why (kept in the audit trail)")
    parser.add_argument("--operator", default=getpass.getuser(), help="who (default: your user name)")


def check(args: argparse.Namespace) -> None:
    """What is wrong with the arguments alone, before any stack is asked (a BadRequest naming the flag)."""
    if not args.apply and (args.review is not None or args.hard is not None):
        raise BadRequest("--review/--hard change the thresholds only with --apply (and a --reason)")
    if args.refine and args.apply:
        raise BadRequest("--refine and --apply are two changes: make them one at a time")
    if args.refine and not args.reason.strip():
        raise BadRequest("--reason is required with --refine: say why the parameters change (kept in the audit "
                         "trail)")
    if args.apply:
        if not args.reason.strip():
            raise BadRequest("--reason is required with --apply: say why the thresholds change (kept in the audit "
                             "trail)")
        if args.review is None and args.hard is None:
            raise BadRequest("--apply needs --review and/or --hard: the new threshold(s)")
        if args.review is not None and args.hard is not None and args.hard < args.review:
            raise BadRequest(f"--hard ({args.hard:g}) must be >= --review ({args.review:g})")


def run(args: argparse.Namespace, outputs: dict[str, str], ssm: Any) -> int:
    import os

    from foureyes.matching import thresholds as t
    from foureyes.matching.score import MatchConfig

    check(args)
    for name, default in (("days", t.OBSERVATION_DAYS), ("min_labels", t.MIN_LABELS),
                          ("review_precision", t.REVIEW_PRECISION_TARGET), ("hard_precision", t.HARD_PRECISION_TARGET)):
        if getattr(args, name) is None:
            setattr(args, name, default)
    parameter = os.environ.get("MATCH_CONFIG_PARAMETER") or outputs.get("MatchConfigParameterName", "")
    if not parameter:
        raise FoureyesError("this stack has no MatchConfigParameterName output: deploy a version with it")
    if args.apply:
        change = t.change_thresholds(ssm, parameter, review=args.review, hard=args.hard, reason=args.reason,
                                     operator=args.operator)
        print(f"match configuration {change.parameter} changed by {args.operator} (audited as thresholds.changed):")
        for name, old, new in (("review_threshold", change.old_review, change.new_review),
                               ("hard_threshold", change.old_hard, change.new_hard)):
            print(f"  {name:<17} {old:g} -> {new:g}" + ("  (unchanged)" if old == new else ""))
        print("the Match function reads it within the stack's parameter cache time (ParametersCacheSeconds); pairs "
              "already proposed or logged as near-misses keep their decision")
        return 0
    try:
        config = MatchConfig.from_mapping(json.loads(ssm.get_parameter(Name=parameter)["Parameter"]["Value"]))
    except (ValueError, FoureyesError) as exc:
        raise FoureyesError(f"the match configuration in {parameter} is not valid ({exc})") from exc
    labels = t.gather(config, t.default_sources(with_observations=bool(os.environ.get("OBSERVATIONS_TABLE"))),
                      since=args.since, days=args.days)
    if args.refine:
        refined = t.refine_parameters(ssm, parameter, labels, reason=args.reason, operator=args.operator)
        print(f"match configuration {refined.parameter}: m refined from {refined.decided} reviewed pairs "
              f"({refined.same} one person) by {args.operator} (audited as match_params.refined):")
        for comparison, levels in refined.new.items():
            for level, value in levels.items():
                print(f"  {comparison}:{level:<10} {refined.old[comparison][level]:.4f} -> {value:.4f}")
        return 0
    _print_labels(labels, config, args.since)
    if labels.reviewed < args.min_labels:
        print(f"TOO FEW LABELS to say anything: {labels.reviewed} reviewed pair(s), fewer than {args.min_labels}. "
              "With so few, a 95% interval on precision spans tens of percentage points; keep the thresholds as "
              "they are and look again once reviewers have decided more proposals" +
              (f" (no chart written to {args.out})" if args.out else ""))
        return 0
    current = config.thresholds
    points = t.curve(labels.labels, t.candidate_thresholds(labels.labels, current))
    suggestion = t.suggest(points, args.review_precision, args.hard_precision)
    _print_curve(points, config, suggestion, args)
    if args.out:
        args.out.write_text(chart_html(points, current, suggestion, labels, datetime.now(UTC)), encoding="utf-8")
        print(f"chart written to {args.out}")
    if not args.no_publish:
        namespace = outputs.get("MetricsNamespace")
        if namespace:
            import boto3

            publish(boto3.client("cloudwatch"), namespace, points)
            print(f"curve published to the ops dashboard ({len(points)} points, metrics {namespace}/Threshold*)")
        else:
            print("this stack has no MetricsNamespace output: the curve is not on its dashboard")
    return 0


def _print_labels(labels: Any, config: Any, since: date | None) -> None:
    from foureyes.matching import thresholds as t

    sources = labels.by_source()
    unscored = sum(1 for label in labels.labels if label.score is None)
    print(f"labels{f' since {since.isoformat()}' if since else ''} (scores on the scorer's own scale; current "
          f"review threshold {config.review_threshold:g}, hard {config.hard_threshold:g}):")
    print(f"  {labels.reviewed} reviewed pair(s): {sources[t.DECISION]} four-eyes decision(s) on proposals, "
          f"{sources[t.PROMOTED]} on promoted near-misses; "
          f"{sum(1 for label in labels.labels if label.reviewed and label.same)} said 'same person'")
    print(f"  {sources[t.OBSERVED]} pair(s) recruiters merged or tagged themselves (not reviewed; "
          f"{unscored} the matcher never scored, or its near-miss expired)")
    if labels.observed_agreeing or labels.observed_conflicting:
        print(f"  recruiters' own actions on reviewed pairs: {labels.observed_agreeing} agree, "
              f"{labels.observed_conflicting} contradict a 'different people' decision")
    for why, count in sorted(labels.excluded.items()):
        print(f"  not a label: {count} {why}")


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _suggested(value: float | None) -> str:
    return "none" if value is None else f"{value:.4g}"


def _print_curve(points: Sequence[Any], config: Any, suggestion: Any, args: argparse.Namespace) -> None:
    positives = points[0].positives if points else 0
    print("precision at t = 'same person' / reviewed pairs scoring >= t (95% Wilson interval); recall at t = true "
          f"pairs scoring >= t / all {positives} true pairs known (reviewed 'same person' and recruiters' own, "
          "missed ones included), 95% Wilson interval")
    print(f"  {'threshold':>10}  {'reviewed':>8}  {'precision':>9}  {'95% CI':<13}  {'recall':>6}  {'95% CI':<13}")
    for p in points:
        marks = [name for name, value in (("review", config.review_threshold), ("hard", config.hard_threshold))
                 if value == p.threshold]
        note = f"  <- current {' and '.join(marks)}" if marks else ""
        print(f"  {p.threshold:>10.4g}  {p.decided:>8}  {_fmt(p.precision):>9}  "
              f"{_fmt(p.precision_low)}-{_fmt(p.precision_high):<7}  {_fmt(p.recall):>6}  "
              f"{_fmt(p.recall_low)}-{_fmt(p.recall_high):<7}{note}")
    print(f"suggested review threshold: {_suggested(suggestion.review)} ({suggestion.review_why})")
    print(f"suggested hard threshold:   {_suggested(suggestion.hard)} ({suggestion.hard_why})")
    if suggestion.review is None and suggestion.hard is None:
        print("no change suggested: the labels support neither threshold yet")
        return
    review = suggestion.review if suggestion.review is not None else config.review_threshold
    hard = suggestion.hard if suggestion.hard is not None else max(config.hard_threshold, review)
    if (review, hard) != (config.review_threshold, config.hard_threshold):
        print(f"nothing changes on its own; to apply: foureyes ops thresholds --apply --review {review:g} "
              f"--hard {hard:g} --reason \"...\"")
    else:
        print("the suggestion is the current configuration: nothing to change")


def publish(cloudwatch: Any, namespace: str, points: Sequence[Any]) -> None:
    """The curve as CloudWatch metrics the ops dashboard graphs: one `point` dimension per threshold (p01 lowest)."""
    data: list[dict[str, Any]] = []
    for index, p in enumerate(points, start=1):
        dimensions = [{"Name": "service", "Value": "foureyes"}, {"Name": "point", "Value": f"p{index:02d}"}]
        values = {"ThresholdValue": p.threshold, "ThresholdDecided": p.decided, "ThresholdPrecision": p.precision,
                  "ThresholdPrecisionLow": p.precision_low if p.decided else None, "ThresholdRecall": p.recall}
        data.extend({"MetricName": name, "Dimensions": dimensions, "Value": float(values[name]), "Unit": "None"}
                    for name in _POINT_METRICS if values[name] is not None)
    for start in range(0, len(data), 20):
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[start:start + 20])


# -- the chart -------------------------------------------------------------------------------------------------------

_W, _H, _LEFT, _RIGHT, _TOP, _BOTTOM = 720, 400, 60, 20, 20, 50


def _scale(points: Sequence[Any], marks: Sequence[float]) -> tuple[float, float]:
    values = [p.threshold for p in points] + list(marks)
    low, high = min(values), max(values)
    if high == low:
        high = low + 1
    pad = (high - low) * 0.04
    return low - pad, high + pad


def chart_html(points: Sequence[Any], current: tuple[float, float], suggestion: Any, labels: Any,
               generated: datetime) -> str:
    """A self-contained HTML page: the precision and recall curves with their 95% bands, the current and suggested
    thresholds as vertical lines, and the numbers as a table. Numbers only (no pair or record is named)."""
    marks = [m for m in (*current, suggestion.review, suggestion.hard) if m is not None]
    x_low, x_high = _scale(points, marks)

    def x(value: float) -> float:
        return _LEFT + (value - x_low) / (x_high - x_low) * (_W - _LEFT - _RIGHT)

    def y(value: float) -> float:
        return _TOP + (1 - value) * (_H - _TOP - _BOTTOM)

    def line(values: list[tuple[float, float]], colour: str, name: str) -> str:
        path = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in values)
        dots = "".join(f'<circle cx="{x(a):.1f}" cy="{y(b):.1f}" r="3" fill="{colour}"/>' for a, b in values)
        return f'<polyline class="{name}" fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>{dots}'

    def band(lows: list[tuple[float, float]], highs: list[tuple[float, float]], colour: str, name: str) -> str:
        outline = [*highs, *reversed(lows)]
        path = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in outline)
        return f'<polygon class="{name}" fill="{colour}" fill-opacity="0.18" stroke="none" points="{path}"/>'

    precise = [p for p in points if p.precision is not None]
    recalled = [p for p in points if p.recall is not None]
    parts = [
        band([(p.threshold, p.precision_low) for p in precise], [(p.threshold, p.precision_high) for p in precise],
             "#1f5fbf", "precision-band"),
        band([(p.threshold, p.recall_low) for p in recalled], [(p.threshold, p.recall_high) for p in recalled],
             "#c0501f", "recall-band"),
        line([(p.threshold, float(p.precision)) for p in precise], "#1f5fbf", "precision"),
        line([(p.threshold, float(p.recall)) for p in recalled], "#c0501f", "recall"),
    ]
    for tick in range(6):
        value = tick / 5
        parts.append(f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#ddd"/>'
                     f'<text x="{_LEFT - 8}" y="{y(value) + 4:.1f}" text-anchor="end">{value:.1f}</text>')
    for tick in range(6):
        value = x_low + (x_high - x_low) * tick / 5
        parts.append(f'<text x="{x(value):.1f}" y="{_H - _BOTTOM + 18}" text-anchor="middle">{value:.3g}</text>')
    for value, text, style in ((current[0], "review now", "6,3"), (current[1], "hard now", "6,3"),
                               (suggestion.review, "review suggested", "2,3"),
                               (suggestion.hard, "hard suggested", "2,3")):
        if value is not None:
            parts.append(f'<line class="mark" x1="{x(value):.1f}" x2="{x(value):.1f}" y1="{_TOP}" '
                         f'y2="{_H - _BOTTOM}" stroke="#444" stroke-dasharray="{style}"/>'
                         f'<text x="{x(value) + 3:.1f}" y="{_TOP + 12}" font-size="11">{escape(text)}</text>')
    parts.append(f'<text x="{(_LEFT + _W - _RIGHT) / 2}" y="{_H - 10}" text-anchor="middle">threshold '
                 "(the scorer's scale): pairs scoring at or above it are proposed</text>")
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}" '
           f'font-family="sans-serif" font-size="12" role="img" aria-label="precision and recall per threshold">'
           f'<rect x="{_LEFT}" y="{_TOP}" width="{_W - _LEFT - _RIGHT}" height="{_H - _TOP - _BOTTOM}" fill="none" '
           f'stroke="#999"/>{"".join(parts)}</svg>')
    rows = "".join(
        f"<tr><td>{p.threshold:.4g}</td><td>{p.decided}</td><td>{_fmt(p.precision)}</td>"
        f"<td>{_fmt(p.precision_low)}-{_fmt(p.precision_high)}</td><td>{_fmt(p.recall)}</td>"
        f"<td>{_fmt(p.recall_low)}-{_fmt(p.recall_high)}</td></tr>" for p in points)
    sources = labels.by_source()
    summary = (f"{labels.reviewed} reviewed pairs, {sources['recruiter']} pairs recruiters merged or tagged "
               f"themselves, {points[0].positives if points else 0} true pairs known")
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Foureyes thresholds</title>"
        "<style>body{font-family:sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}.p{color:#1f5fbf}.r{color:#c0501f}</style>"
        "</head><body><h1>Thresholds from people's decisions</h1>"
        f"<p>{escape(summary)}; generated {generated.isoformat(timespec='seconds')}.</p>"
        "<p><span class=\"p\">Precision</span>: of the reviewed pairs scoring at or above the threshold, the share "
        "people said are the same person. <span class=\"r\">Recall</span>: of every true pair known (reviewed "
        "'same person', and pairs recruiters merged themselves, missed ones included), the share scoring at or "
        "above it. Bands: 95% Wilson intervals.</p>"
        f"{svg}<p>Suggested review threshold: {_suggested(suggestion.review)} ({escape(suggestion.review_why)})."
        f"<br>Suggested hard threshold: {_suggested(suggestion.hard)} ({escape(suggestion.hard_why)}).<br>"
        "Nothing changes on its own: <code>foureyes ops thresholds --apply --review X --hard Y --reason "
        "\"...\"</code>.</p><table><tr><th>threshold</th><th>reviewed</th><th>precision</th><th>95% CI</th>"
        f"<th>recall</th><th>95% CI</th></tr>{rows}</table></body></html>\n")
