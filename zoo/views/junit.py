"""JUnit XML for CI systems: one test suite per model, one test case per claim.

- drift -> ``<failure type="drift">`` (the message says whether the metric gates);
- error -> ``<error type="error">`` (bad input: the model, checkpoint or card is broken);
- unverified and waived -> ``<skipped>`` with the reason;
- pass -> a test case with no child.

The structure follows the common JUnit schema (Ant / Jenkins / surefire): ``testsuites``
> ``testsuite`` (name, tests, failures, errors, skipped, time, timestamp, hostname, id,
package) > ``properties`` and ``testcase`` (name, classname, time). That schema has no
properties inside a test case, so the conditions of each measurement are suite properties
named ``<metric>.<condition>``, and are repeated readably in the test case's ``system-out``.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Sequence, Union

from zoo.judge.gate import requested_metrics
from zoo.judge.tally import counted
from zoo.records import ModelResult, RunRecord, Verdict
from zoo.atomic import write_atomic
from zoo.views.rows import format_difference, format_uncertainty, measured_text, metric_label

SKIPPED = ("unverified", "waived")


def _seconds(start: str, end: str) -> float:
    try:
        begin = dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
        finish = dt.datetime.fromisoformat(end.replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    return max((finish - begin).total_seconds(), 0.0)


def _timestamp(text: str) -> str:
    """ISO 8601 without a zone, as JUnit consumers expect (``2025-06-01T12:00:00``)."""
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if when.tzinfo is not None:
        when = when.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return when.isoformat(timespec="seconds")


def _measured_text(verdict: Verdict) -> str:
    """Claim, measurement and how it was measured, for a test case's system-out."""
    claim, measurement = verdict.claim, verdict.measurement
    lines = [f"{metric_label(verdict.metric)} ({verdict.status}{', gating' if verdict.gating else ''})"]
    if claim is not None:
        lines.append(f"claimed:  {claim.raw or claim.value}   ({claim.source})")
    if measurement is not None:
        if measurement.status == "ok":
            value, note = measured_text(verdict)
            uncertainty = format_uncertainty(measurement.uncertainty, measurement.unit)
            lines.append(f"measured: {value}{' (' + note + ')' if note else ''}{'  ' + uncertainty if uncertainty else ''}")
        else:
            lines.append(f"measured: {measurement.status}: {measurement.reason or ''}")
        if verdict.difference is not None:
            lines.append(f"difference: {format_difference(verdict.difference, measurement.unit)}")
        if measurement.method:
            lines.append(f"method:   {measurement.method}")
        for key, condition in measurement.conditions.items():
            lines.append(f"  {key} = {condition}")
    lines.append(verdict.explanation)
    return "\n".join(lines) + "\n"


def _testcase(suite: ET.Element, result: ModelResult, verdict: Verdict) -> None:
    case = ET.SubElement(suite, "testcase", name=verdict.metric, classname=f"zoo.{result.card.name}", time="0.000")
    message = verdict.explanation
    if verdict.status == "drift":
        gate = "fails the gate" if verdict.gating else "reported, does not gate"
        failure = ET.SubElement(case, "failure", type="drift", message=f"{message} ({gate})")
        failure.text = _measured_text(verdict)
    elif verdict.status == "error":
        error = ET.SubElement(case, "error", type="error", message=message)
        error.text = _measured_text(verdict)
    else:
        if verdict.status in SKIPPED:
            ET.SubElement(case, "skipped", type=verdict.status, message=f"{verdict.status}: {message}")
        # Failures and errors carry the details in their body; other cases in system-out.
        out = ET.SubElement(case, "system-out")
        out.text = _measured_text(verdict)


def _properties(suite: ET.Element, result: ModelResult) -> None:
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", name="card", value=str(result.card.source))
    for verdict in result.verdicts:
        if verdict.claim is not None:
            ET.SubElement(properties, "property", name=f"{verdict.metric}.source", value=str(verdict.claim.source))
    for measurement in result.measurements:
        if measurement.method:
            ET.SubElement(properties, "property", name=f"{measurement.metric}.method", value=measurement.method)
        for key, value in measurement.conditions.items():
            ET.SubElement(properties, "property", name=f"{measurement.metric}.{key}", value="" if value is None else str(value))


def junit_tree(runs: Union[RunRecord, Sequence[RunRecord]], *, name: str = "zoo") -> ET.ElementTree:
    """The JUnit document for one run or several (see the module docstring for the mapping).

    With several runs, suite names are prefixed with the run id so they stay apart.
    """
    records = [runs] if isinstance(runs, RunRecord) else list(runs)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    root = ET.Element("testsuites", name=name)
    number = 0
    seconds = 0.0
    for run in records:
        timestamp = _timestamp(run.started)
        seconds += _seconds(run.started, run.finished)
        requested = requested_metrics(run)
        for result in run.models:
            cases = [v for v in result.verdicts if counted(v, requested)]  # zoo.judge.tally: claims not asked for are no test
            counts = {
                "tests": len(cases),
                "failures": sum(v.status == "drift" for v in cases),
                "errors": sum(v.status == "error" for v in cases),
                "skipped": sum(v.status in SKIPPED for v in cases),
            }
            suite_name = result.card.name if len(records) == 1 else f"{run.run_id}/{result.card.name}"
            attributes = {"name": suite_name, **{k: str(v) for k, v in counts.items()}, "time": "0.000",
                          "timestamp": timestamp, "hostname": run.environment.hostname, "id": str(number), "package": "zoo"}
            suite = ET.SubElement(root, "testsuite", attributes)
            number += 1
            _properties(suite, result)
            for verdict in cases:
                _testcase(suite, result, verdict)
            for key in totals:
                totals[key] += counts[key]
    for key in ("tests", "failures", "errors"):
        root.set(key, str(totals[key]))
    root.set("time", f"{seconds:.3f}")
    _make_xml_safe(root)
    ET.indent(root)
    return ET.ElementTree(root)


# Characters XML 1.0 does not allow at all (control characters other than tab, LF, CR).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    """``text`` with characters XML cannot hold written as ``\\xNN`` (e.g. terminal colours)."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _make_xml_safe(root: ET.Element) -> None:
    for element in root.iter():
        if element.text:
            element.text = _xml_safe(element.text)
        for key, value in element.attrib.items():
            element.attrib[key] = _xml_safe(value)


def junit_xml(runs: Union[RunRecord, Sequence[RunRecord]], *, name: str = "zoo") -> str:
    """:func:`junit_tree` as a UTF-8 XML document (text)."""
    root = junit_tree(runs, name=name).getroot()
    assert root is not None
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n"


def write_junit(runs: Union[RunRecord, Sequence[RunRecord]], path: Union[str, Path], *, name: str = "zoo") -> Path:
    """Write :func:`junit_xml` to ``path`` atomically."""
    return write_atomic(path, junit_xml(runs, name=name))
