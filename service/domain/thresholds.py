"""TFMA's MetricThreshold semantics, without TFMA: is a candidate good enough, and no worse than
the incumbent, overall and on every slice?

Pure functions over the typed gate (gate_types.GateConfig) and the metrics as submitted, so
the rules are testable on their own and the blessing records exactly what was compared.

- value_threshold: lower_bound ≤ value ≤ upper_bound (either bound optional).
- change_threshold: diff = candidate - baseline, ratio = diff / baseline;
  HIGHER_IS_BETTER passes when diff ≥ absolute and ratio ≥ relative,
  LOWER_IS_BETTER when diff ≤ absolute and ratio ≤ relative (unset bounds do not constrain).
  Unlike TFMA, an unset `relative` is not checked at all, so a baseline of 0 does not fail an
  absolute-only threshold; a set `relative` against a baseline of 0 fails (the ratio is
  undefined), as in TFMA.
- With no incumbent, change thresholds are skipped (TFMA ignores them on the first run).
- Every threshold applies to the overall metrics and to every slice matched by a slicing
  spec; a spec that matches no submitted slice fails (TFMA's "missing slices").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .gate_types import ChangeThreshold, GateConfig, SlicingSpec, ValueThreshold

OVERALL = "Overall"


@dataclass(frozen=True, slots=True)
class Baseline:
    """What the candidate is compared to: the incumbent's version and its evaluation on the
    same data (None when it has none — change thresholds then fail, they cannot be checked)."""

    version: int
    evaluation: dict[str, Any] | None
    dataset: str | None = None


def slice_name(features: dict[str, Any]) -> str:
    return ", ".join(f"{k}={features[k]}" for k in sorted(features)) or OVERALL


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.6g}"


def _matches(spec: SlicingSpec, features: dict[str, Any]) -> bool:
    if set(features) != set(spec.feature_keys) | set(spec.feature_values):
        return False
    return all(str(features[k]) == str(v) for k, v in spec.feature_values.items())


def _spec_name(spec: SlicingSpec) -> str:
    parts = list(spec.feature_keys)
    parts += [f"{k}={v}" for k, v in spec.feature_values.items()]
    return ", ".join(parts)


def _slices(evaluation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {
        OVERALL: {
            "slice": {},
            "metrics": evaluation.get("metrics") or {},
            "example_count": evaluation.get("example_count"),
        }
    }
    for s in evaluation.get("slices") or ():
        out[slice_name(s["slice"])] = s
    return out


def _value_check(metric: str, value: float, t: ValueThreshold) -> dict[str, Any]:
    lower, upper = t.lower_bound, t.upper_bound
    bound = " and ".join(
        b for b in (lower is not None and f"≥ {lower:g}", upper is not None and f"≤ {upper:g}") if b
    )
    passed = (lower is None or value >= lower) and (upper is None or value <= upper)
    if passed:
        message = f"{metric} {_fmt(value)} {bound}"
    elif lower is not None and value < lower:
        message = f"{metric} {_fmt(value)} is below the lower bound {lower:g}"
    else:
        message = f"{metric} {_fmt(value)} is above the upper bound {upper:g}"
    return {"kind": "value", "value": value, "bound": bound, "passed": passed, "message": message}


def _change_check(
    metric: str, value: float, base: float, version: int, t: ChangeThreshold
) -> dict[str, Any]:
    higher = t.direction == "HIGHER_IS_BETTER"
    absolute, relative = t.absolute, t.relative
    diff = value - base
    ratio = math.nan if math.isclose(base, 0.0, abs_tol=1e-12) else diff / base
    ge = "≥" if higher else "≤"
    parts = []
    if absolute is not None:
        parts.append(f"change {ge} {absolute:+g}")
    if relative is not None:
        parts.append(f"relative change {ge} {relative:+.4g}")
    bound = " and ".join(parts) or "any change"

    def ok(x: float, limit: float | None) -> bool:
        if limit is None:
            return True
        return x >= limit if higher else x <= limit

    passed = ok(diff, absolute) and ok(ratio, relative)
    rel = "" if math.isnan(ratio) else f", {ratio:+.2%}"
    moved = f"{metric} {_fmt(base)} → {_fmt(value)} ({diff:+.6g}{rel}) against v{version}"
    if passed:
        message = moved
    elif relative is not None and math.isnan(ratio):
        message = f"{moved}: a relative change from 0 is undefined"
    else:
        worse = "fell" if higher else "rose"
        message = f"{moved}: {metric} {worse} more than allowed ({bound}, {t.direction})"
    return {
        "kind": "change",
        "value": value,
        "baseline": base,
        "diff": diff,
        "ratio": None if math.isnan(ratio) else ratio,
        "bound": bound,
        "passed": passed,
        "message": message,
    }


def decide(
    config: GateConfig,
    candidate: dict[str, Any],
    baseline: Baseline | None,
    *,
    absent: str = "no incumbent: change thresholds do not apply",
) -> tuple[bool, list[dict[str, Any]]]:
    """(blessed, checks): one check per threshold per slice, with value, bound and verdict.
    `absent` says why there is no baseline when `baseline` is None."""
    checks: list[dict[str, Any]] = []
    mine = _slices(candidate)
    theirs = _slices(baseline.evaluation) if baseline and baseline.evaluation else None
    min_size = config.min_slice_size

    to_check = [OVERALL]
    for spec in config.slicing_specs:
        found = [name for name, s in mine.items() if name != OVERALL and _matches(spec, s["slice"])]
        if not found:
            checks.append(
                {
                    "kind": "slice",
                    "slice": _spec_name(spec),
                    "metric": None,
                    "passed": False,
                    "message": f"no slice matches the slicing spec ({_spec_name(spec)}): "
                    "submit metrics per slice",
                }
            )
        to_check += [n for n in found if n not in to_check]

    for name in to_check:
        count = mine[name].get("example_count")
        if name != OVERALL and min_size and count is not None and count < min_size:
            checks.append(
                {
                    "kind": "slice",
                    "slice": name,
                    "metric": None,
                    "passed": True,
                    "skipped": True,
                    "message": f"{count} examples, fewer than min_slice_size {min_size}: "
                    "not checked",
                }
            )
            continue
        metrics = mine[name]["metrics"]
        for t in config.thresholds:
            metric = t.metric
            value = metrics.get(metric)
            base_check = {"slice": name, "metric": metric}
            if value is None:
                checks.append(
                    base_check
                    | {
                        "kind": "metric",
                        "passed": False,
                        "message": f"{metric} is not in the evaluation"
                        + ("" if name == OVERALL else f" of slice {name}"),
                    }
                )
                continue
            if t.value_threshold:
                checks.append(base_check | _value_check(metric, value, t.value_threshold))
            change = t.change_threshold
            if not change:
                continue
            if baseline is None:
                checks.append(
                    base_check
                    | {
                        "kind": "change",
                        "value": value,
                        "passed": True,
                        "skipped": True,
                        "message": absent,
                    }
                )
                continue
            base = theirs.get(name, {}).get("metrics", {}).get(metric) if theirs else None
            if base is None:
                where = f" on {baseline.dataset}" if baseline.dataset else ""
                missing = (
                    f"the incumbent v{baseline.version} has no evaluation{where}"
                    if theirs is None
                    else f"the incumbent v{baseline.version}'s evaluation{where} has no {metric}"
                    + ("" if name == OVERALL else f" for slice {name}")
                )
                checks.append(
                    base_check
                    | {
                        "kind": "change",
                        "value": value,
                        "passed": False,
                        "message": f"{missing}: evaluate it on the same data to compare",
                    }
                )
                continue
            checks.append(base_check | _change_check(metric, value, base, baseline.version, change))
    return all(c["passed"] for c in checks), checks
