"""`mlledger gate ...` for CI: ask the server for a verdict and say it the ways CI listens —
an exit code (0 passed, 1 blocked, 2 error), a human report or JSON, a JUnit file, and a
Markdown summary appended to `$GITHUB_STEP_SUMMARY` when it is set."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree as ET

import click

from .errors import ApiError, Unavailable
from .transport import Transport

PASSED, BLOCKED, ERROR = 0, 1, 2


@dataclass
class Verdict:
    """One gate's answer, whatever the gate."""

    gate: str  # "data gate customers:3"
    passed: bool
    status: str
    reasons: list[dict[str, Any]] = field(default_factory=list)
    body: dict[str, Any] = field(default_factory=dict)


def data_verdict(
    t: Transport,
    dataset: str,
    *,
    wait: bool,
    timeout: float,
    options: dict[str, Any] | None = None,
) -> Verdict:
    """The data gate of `dataset` (`name`, `name:version` or an artifact id); a validation is
    requested when the version has none yet — or, with `options` (drift and skew thresholds,
    serving dataset, environment, profile; the REST request's fields), when the last one was
    made with other options, so a verdict never answers a question that was not asked.

    Raises:
        ApiError: no such dataset (or a bad reference).
        Unavailable: the server cannot be reached.
        TimeoutError: `wait` and no verdict within `timeout` seconds.
    """
    path = f"/api/v1/datasets/{dataset}/gate"
    body = t.call("GET", path)
    ref: int | str = int(dataset) if dataset.isascii() and dataset.isdigit() else dataset
    asked = {k: v for k, v in (options or {}).items() if v is not None}
    serving = asked.get("serving_dataset")
    if isinstance(serving, str):  # the server keeps the id a reference resolved to
        asked["serving_dataset"] = t.call("GET", f"/api/v1/datasets/{serving}/gate")["dataset"][
            "id"
        ]
    if body["status"] == "none":
        t.call("POST", "/api/v1/validation/jobs", json={"dataset": ref, **asked})
        body = t.call("GET", path)
    elif asked and not _same_options(body.get("job"), asked):
        t.call("POST", "/api/v1/validation/jobs", json={"dataset": ref, **asked, "rerun": True})
        body = t.call("GET", path)
    deadline = time.monotonic() + timeout
    while wait and body["status"] == "pending":
        if time.monotonic() >= deadline:
            raise TimeoutError(f"no verdict on {dataset} within {timeout:.0f} s (still pending)")
        time.sleep(1.0)
        body = t.call("GET", path)
    d = body["dataset"]
    return Verdict(
        gate=f"data gate {d['name']}:{d['version']}",
        passed=body["status"] == "passed",
        status=body["status"],
        reasons=body["reasons"],
        body=body,
    )


def _same_options(job: dict[str, Any] | None, asked: dict[str, Any]) -> bool:
    if job is None:
        return False
    had = {**job.get("options", {}), "profile": job.get("profile", "direct")}
    return all(had.get(k) == v for k, v in asked.items())


def model_verdict(t: Transport, model: str, version: int, *, wait: bool, timeout: float) -> Verdict:
    """May this model version be pushed: blessed against the current incumbent, and every
    training dataset passed its data gate? With `wait`, never-validated training datasets get
    a validation requested and pending ones are waited for.

    Raises:
        ApiError: no such model or version.
        Unavailable: the server cannot be reached.
        TimeoutError: `wait` and still pending after `timeout` seconds.
    """
    path = f"/api/v1/models/{quote(model, safe='')}/versions/{version}/gate"
    body = t.call("GET", path)
    deadline = time.monotonic() + timeout
    requested: set[int] = set()
    while wait and body["status"] == "pending":
        for d in body["training_datasets"]:
            if d["status"] == "none" and d["id"] not in requested:
                t.call("POST", "/api/v1/validation/jobs", json={"dataset": d["id"]})
                requested.add(d["id"])
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"{model} v{version}: training data still being validated after {timeout:.0f} s"
            )
        time.sleep(1.0)
        body = t.call("GET", path)
    return Verdict(
        gate=f"model gate {model} v{version}",
        passed=body["status"] == "passed",
        status=body["status"],
        reasons=body["reasons"],
        body=body,
    )


def _where(r: dict[str, Any]) -> str:
    if "severity" in r:  # a data gate's anomaly
        return f"{r.get('feature') or '(dataset)'}: {r.get('kind')} [{r.get('severity')}]"
    return f"{r.get('kind')}" + (f" ({r['slice']})" if r.get("slice") else "") + ":"


def _checks(v: Verdict) -> list[dict[str, Any]]:
    evaluation = v.body.get("evaluation") or {}
    return list(evaluation.get("checks") or [])


def _training(v: Verdict) -> list[dict[str, Any]]:
    return list(v.body.get("training_datasets") or [])


def text(v: Verdict) -> str:
    lines = [f"{v.gate}: {v.status.upper()}"]
    if v.status == "pending":
        lines.append("  validation has not finished (use --wait to wait for it)")
    for r in v.reasons:
        lines.append(f"  {_where(r)} {r.get('message')}")
    training = _training(v)
    if training:
        lines.append("  training data (data gates):")
        for d in training:
            status = d["status"] if d["status"] != "none" else "never validated"
            lines.append(f"    {status:15} {d['name']}:{d['version']} (artifact {d['id']})")
    checks = _checks(v)
    if checks:
        evaluation = v.body["evaluation"]
        against = evaluation.get("baseline_version")
        lines.append(
            f"  thresholds ({'blessed' if evaluation['blessed'] else 'not blessed'}, against "
            f"{'no incumbent' if against is None else f'v{against}'}):"
        )
        for c in checks:
            verdict = "skip" if c.get("skipped") else ("pass" if c["passed"] else "FAIL")
            lines.append(f"    {verdict:4}  {c.get('slice') or ''}: {c['message']}")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    return str("" if value is None else value).replace("|", "\\|").replace("\n", " ")


def markdown(v: Verdict) -> str:
    icon = "✅" if v.passed else "❌"
    out = [f"### {icon} {v.gate}: {v.status}", ""]
    if v.reasons:
        out += ["| where | message |", "|---|---|"]
        out += [f"| {_cell(_where(r))} | {_cell(r.get('message'))} |" for r in v.reasons]
        out.append("")
    training = _training(v)
    if training:
        out += ["| training dataset | data gate |", "|---|---|"]
        for d in training:
            status = d["status"] if d["status"] != "none" else "never validated"
            out.append(f"| {_cell(d['name'])}:{d['version']} | {_cell(status)} |")
        out.append("")
    checks = _checks(v)
    if checks:
        out += ["| slice | metric | value | bound | verdict |", "|---|---|---|---|---|"]
        for c in checks:
            verdict = "skipped" if c.get("skipped") else ("pass" if c["passed"] else "**fail**")
            cells = [c.get("slice"), c.get("metric"), c.get("value"), c.get("bound"), verdict]
            out.append("| " + " | ".join(_cell(x) for x in cells) + " |")
        out.append("")
    return "\n".join(out) + "\n"


def junit(v: Verdict) -> bytes:
    suite = ET.Element(
        "testsuite",
        name="mlledger gates",
        tests="1",
        failures="0" if v.passed else "1",
        errors="0",
    )
    case = ET.SubElement(suite, "testcase", classname="mlledger", name=v.gate)
    if not v.passed:
        failure = ET.SubElement(case, "failure", message=f"{v.gate}: {v.status}")
        failure.text = text(v)
    return ET.tostring(suite, encoding="utf-8", xml_declaration=True)


def report(v: Verdict, *, as_format: str, junit_file: Path | None) -> int:
    """Print and file the verdict; the exit code."""
    if as_format == "json":
        click.echo(json.dumps({"gate": v.gate, "passed": v.passed, **v.body}, indent=2))
    else:
        click.echo(text(v))
    if junit_file is not None:
        junit_file.write_bytes(junit(v))
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as f:
            f.write(markdown(v))
    return PASSED if v.passed else BLOCKED


def failure(exc: Exception) -> int:
    """Exit code 2 with the reason: the gate could not be asked (not: the gate said no)."""
    if isinstance(exc, ApiError | Unavailable | TimeoutError):
        click.echo(f"error: {exc}", err=True)
        return ERROR
    raise exc
