"""TFMA MetricThreshold semantics, checked rule by rule (pure functions, no server)."""

from __future__ import annotations

import pytest

from mlledger.service.domain.gate_types import GateConfig
from mlledger.service.domain.thresholds import Baseline, decide


def gate(*thresholds: dict, **rest) -> GateConfig:  # type: ignore[type-arg]
    return GateConfig.model_validate({"thresholds": list(thresholds), **rest})


def auc(value=None, change=None) -> dict:  # type: ignore[no-untyped-def,type-arg]
    t: dict = {"metric": "auc"}  # type: ignore[type-arg]
    if value:
        t["value_threshold"] = value
    if change:
        t["change_threshold"] = change
    return t


def ev(auc: float, **slices: float) -> dict:  # type: ignore[type-arg]
    return {
        "metrics": {"auc": auc},
        "slices": [{"slice": {"country": c}, "metrics": {"auc": v}} for c, v in slices.items()],
    }


@pytest.mark.parametrize(
    ("bounds", "value", "passed"),
    [
        ({"lower_bound": 0.7}, 0.7, True),  # bounds are inclusive
        ({"lower_bound": 0.7}, 0.69, False),
        ({"upper_bound": 0.3}, 0.31, False),
        ({"lower_bound": 0.1, "upper_bound": 0.3}, 0.2, True),
    ],
)
def test_value_thresholds(bounds, value, passed) -> None:  # type: ignore[no-untyped-def]
    blessed, (check,) = decide(gate(auc(value=bounds)), ev(value), None)
    assert blessed is passed and check["passed"] is passed and check["value"] == value
    assert check["bound"]


HIGHER = "HIGHER_IS_BETTER"
LOWER = "LOWER_IS_BETTER"


@pytest.mark.parametrize(
    ("change", "candidate", "incumbent", "passed"),
    [
        ({"direction": HIGHER, "absolute": -0.01}, 0.895, 0.9, True),  # may fall by 0.01
        ({"direction": HIGHER, "absolute": -0.01}, 0.88, 0.9, False),
        ({"direction": HIGHER, "absolute": 0.0}, 0.9, 0.9, True),  # no worse
        ({"direction": HIGHER, "relative": 0.05}, 0.94, 0.9, False),  # must gain 5 %
        ({"direction": HIGHER, "relative": 0.05}, 0.95, 0.9, True),
        ({"direction": LOWER, "absolute": 0.0}, 0.31, 0.3, False),  # loss rose
        ({"direction": LOWER, "absolute": 0.0}, 0.29, 0.3, True),
        ({"direction": LOWER, "relative": -0.1}, 0.28, 0.3, False),  # must drop 10 %
        ({"direction": HIGHER, "absolute": 0.0}, 0.1, 0.0, True),  # baseline 0, absolute only
        ({"direction": HIGHER, "relative": 0.0}, 0.1, 0.0, False),  # ratio undefined
    ],
)
def test_change_thresholds(change, candidate, incumbent, passed) -> None:  # type: ignore[no-untyped-def]
    blessed, (check,) = decide(gate(auc(change=change)), ev(candidate), Baseline(3, ev(incumbent)))
    assert blessed is passed, check
    assert check["baseline"] == incumbent and check["diff"] == pytest.approx(candidate - incumbent)
    assert "v3" in check["message"]


def test_no_incumbent_skips_change_thresholds_but_not_value_thresholds() -> None:
    g = gate(auc(value={"lower_bound": 0.8}, change={"direction": HIGHER, "absolute": 0.0}))
    blessed, checks = decide(g, ev(0.85), None)
    assert blessed and [c["kind"] for c in checks] == ["value", "change"]
    assert checks[1]["skipped"]
    blessed, _ = decide(g, ev(0.75), None)
    assert not blessed


def test_an_incumbent_without_an_evaluation_on_the_data_fails_the_change() -> None:
    blessed, (check,) = decide(
        gate(auc(change={"direction": HIGHER, "absolute": 0.0})),
        ev(0.99),
        Baseline(3, None, dataset="eval:2"),
    )
    assert not blessed and "v3 has no evaluation on eval:2" in check["message"]


def test_every_slice_must_pass_better_on_average_is_not_enough() -> None:
    g = gate(
        auc(change={"direction": HIGHER, "absolute": -0.01}),
        slicing_specs=[{"feature_keys": ["country"]}],
    )
    blessed, checks = decide(g, ev(0.93, DE=0.80, FR=0.95), Baseline(1, ev(0.90, DE=0.88, FR=0.9)))
    assert not blessed
    failed = [c for c in checks if not c["passed"]]
    assert [c["slice"] for c in failed] == ["country=DE"]
    assert "fell" in failed[0]["message"]


def test_a_slicing_spec_with_no_slice_submitted_fails_and_a_missing_metric_fails() -> None:
    g = gate(auc(value={"lower_bound": 0.5}), slicing_specs=[{"feature_keys": ["device"]}])
    blessed, checks = decide(g, ev(0.9, DE=0.9), None)
    assert not blessed and any(c["kind"] == "slice" and not c["passed"] for c in checks)
    blessed, checks = decide(gate(auc(value={"lower_bound": 0.5})), {"metrics": {"f1": 1}}, None)
    assert not blessed and checks[0]["message"] == "auc is not in the evaluation"


def test_small_slices_are_skipped_by_min_slice_size_and_feature_values_pick_one() -> None:
    candidate = ev(0.9, DE=0.1, FR=0.9)
    candidate["slices"][0]["example_count"] = 5
    g = gate(
        auc(value={"lower_bound": 0.5}),
        slicing_specs=[{"feature_keys": ["country"]}],
        min_slice_size=100,
    )
    blessed, checks = decide(g, candidate, None)
    assert blessed and any(c.get("skipped") and c["slice"] == "country=DE" for c in checks)
    one = gate(
        auc(value={"lower_bound": 0.5}), slicing_specs=[{"feature_values": {"country": "FR"}}]
    )
    blessed, checks = decide(one, ev(0.9, DE=0.1, FR=0.9), None)
    assert blessed and {c["slice"] for c in checks} == {"Overall", "country=FR"}
