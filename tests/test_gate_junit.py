"""JUnit XML: the structure of the JUnit schema, and one test case per model and claim."""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from fixtures.runs.world import Outcome, make_run, report_world, write_index, write_tolerances

from zoo.records import Measurement, RunRecord
from zoo.views.junit import junit_xml, write_junit

# The common JUnit schema (Ant / Jenkins junit-10.xsd / surefire), as structure rules.
SCHEMA: dict[str, dict[str, set[str]]] = {
    "testsuites": {"required": set(), "optional": {"name", "time", "tests", "failures", "errors", "disabled"},
                   "children": {"testsuite"}},
    "testsuite": {"required": {"name", "tests", "failures", "errors"},
                  "optional": {"group", "time", "skipped", "timestamp", "hostname", "id", "package", "file", "log", "url", "version", "disabled"},
                  "children": {"testsuite", "properties", "testcase", "system-out", "system-err"}},
    "properties": {"required": set(), "optional": set(), "children": {"property"}},
    "property": {"required": {"name", "value"}, "optional": set(), "children": set()},
    "testcase": {"required": {"name"}, "optional": {"time", "classname", "group", "assertions", "status"},
                 "children": {"skipped", "error", "failure", "system-out", "system-err"}},
    "failure": {"required": set(), "optional": {"type", "message"}, "children": set()},
    "error": {"required": set(), "optional": {"type", "message"}, "children": set()},
    "skipped": {"required": set(), "optional": {"type", "message"}, "children": set()},
    "system-out": {"required": set(), "optional": set(), "children": set()},
    "system-err": {"required": set(), "optional": set(), "children": set()},
}
TIME = re.compile(r"^(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]{0,3})?$")  # the schema's SUREFIRE_TIME
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
COUNTS = ("tests", "failures", "errors", "skipped")


def validate(element: ET.Element, path: str = "") -> None:
    """Raise AssertionError where ``element`` breaks the schema's structure."""
    where = f"{path}/{element.tag}"
    assert element.tag in SCHEMA, f"{where}: unknown element"
    rule = SCHEMA[element.tag]
    attributes = set(element.attrib)
    assert rule["required"] <= attributes, f"{where}: missing {rule['required'] - attributes}"
    assert attributes <= rule["required"] | rule["optional"], f"{where}: unexpected {attributes - rule['required'] - rule['optional']}"
    for child in element:
        assert child.tag in rule["children"], f"{where}: <{child.tag}> not allowed here"
        validate(child, where)
    if "time" in element.attrib:
        assert TIME.match(element.attrib["time"]), f"{where}: time {element.attrib['time']!r}"
    for count in COUNTS:
        if count in element.attrib:
            assert element.attrib[count].isdigit(), f"{where}: {count} {element.attrib[count]!r} is not a count"
    if element.tag == "testsuite":
        cases = element.findall("testcase")
        assert int(element.attrib["tests"]) == len(cases)
        assert int(element.attrib["failures"]) == sum(c.find("failure") is not None for c in cases)
        assert int(element.attrib["errors"]) == sum(c.find("error") is not None for c in cases)
        assert int(element.attrib.get("skipped", 0)) == sum(c.find("skipped") is not None for c in cases)
        if "timestamp" in element.attrib:
            assert TIMESTAMP.match(element.attrib["timestamp"]), f"{where}: timestamp {element.attrib['timestamp']!r}"
    if element.tag == "testcase":
        outcomes = [c.tag for c in element if c.tag in ("failure", "error", "skipped")]
        assert len(outcomes) <= 1, f"{where}: a test case has one outcome, found {outcomes}"
    if element.tag == "testsuites":
        suites = element.findall("testsuite")
        for count in ("tests", "failures", "errors"):
            assert int(element.attrib[count]) == sum(int(s.attrib[count]) for s in suites)


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunRecord:
    monkeypatch.chdir(tmp_path)  # sources are shown relative to the working folder
    return report_world(tmp_path)


def _parse(text: str) -> ET.Element:
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(text.encode("utf-8"))


def test_junit_follows_the_schema_structure(run: RunRecord) -> None:
    validate(_parse(junit_xml(run)))


def test_the_validator_catches_broken_documents() -> None:
    with pytest.raises(AssertionError, match="missing"):
        validate(ET.fromstring('<testsuites><testsuite name="x" tests="0" failures="0"/></testsuites>'))
    with pytest.raises(AssertionError, match="not allowed"):
        validate(ET.fromstring('<testsuites><testsuite name="x" tests="1" failures="0" errors="0"><testcase name="a">'
                               '<properties/></testcase></testsuite></testsuites>'))
    with pytest.raises(AssertionError):
        validate(ET.fromstring('<testsuites><testsuite name="x" tests="2" failures="0" errors="0"><testcase name="a"/>'
                               '</testsuite></testsuites>'))


def test_one_test_case_per_model_and_claim_with_its_outcome(run: RunRecord) -> None:
    root = _parse(junit_xml(run))
    suites = {suite.attrib["name"]: suite for suite in root.findall("testsuite")}
    assert list(suites) == [m.card.name for m in run.models]
    expected = {"drift": "failure", "error": "error", "unverified": "skipped", "waived": "skipped", "pass": None}
    for result in run.models:
        cases = {case.attrib["name"]: case for case in suites[result.card.name].findall("testcase")}
        assert sorted(cases) == sorted(v.metric for v in result.verdicts)
        for verdict in result.verdicts:
            case = cases[verdict.metric]
            assert case.attrib["classname"] == f"zoo.{result.card.name}"
            outcome = [c for c in case if c.tag in ("failure", "error", "skipped")]
            tag = expected[verdict.status]
            assert [c.tag for c in outcome] == ([tag] if tag else [])
            if outcome:
                assert verdict.explanation in outcome[0].attrib["message"]
    assert root.attrib["failures"] == "1" and root.attrib["tests"] == "36"
    drift = suites["mobilenetv2_110d"].find("testcase[@name='top1']/failure")
    assert drift is not None and drift.attrib["type"] == "drift" and "fails the gate" in drift.attrib["message"]
    assert "metadata/zoo.yml:34" in (drift.text or "")


def test_conditions_are_suite_properties(run: RunRecord) -> None:
    root = _parse(junit_xml(run))
    suite = root.find("testsuite[@name='mobilenetv2_100']")
    assert suite is not None
    properties = {p.attrib["name"]: p.attrib["value"] for p in suite.iter("property")}
    assert properties["top1.images"] == "50000"
    assert properties["top1.dataset_fingerprint"] == "sha256:4f2e1a"
    assert properties["throughput.batch_size"] == "32"
    assert properties["top1.source"] == "metadata/zoo.yml:18"
    assert properties["card"] == "metadata/zoo.yml:4"
    out = suite.find("testcase[@name='top1']/system-out")
    assert out is not None and "device = cpu" in (out.text or "")


def test_errors_and_awkward_text_stay_well_formed(tmp_path: Path) -> None:
    write_index(tmp_path)
    write_tolerances(tmp_path)
    nasty = 'checkpoint <broken> & "odd" \x1b[31m bytes'
    run = make_run(tmp_path, {"mobilenetv2_100": Outcome(weights_error=nasty)})
    root = _parse(junit_xml(run))
    validate(root)
    error = root.find("testsuite/testcase[@name='weights']/error")
    assert error is not None and "<broken> &" in error.attrib["message"]
    assert "\\x1b[31m" in error.attrib["message"]  # a control character XML cannot hold, written out
    assert root.attrib["errors"] == "2"


def test_several_runs_keep_their_suites_apart(run: RunRecord, tmp_path: Path) -> None:
    other = dataclasses.replace(run, run_id="second")
    root = _parse(junit_xml([run, other]))
    validate(root)
    names = [s.attrib["name"] for s in root.findall("testsuite")]
    assert len(names) == len(set(names)) == 8
    assert names[4] == "second/mobilenetv2_100"


def test_write_junit_replaces_the_file_whole(run: RunRecord, tmp_path: Path) -> None:
    target = tmp_path / "reports" / "junit.xml"
    write_junit(run, target)
    write_junit(dataclasses.replace(run, models=run.models[:1]), target)
    validate(ET.parse(target).getroot())
    assert [p.name for p in target.parent.iterdir()] == ["junit.xml"]
    assert ET.parse(target).getroot().attrib["tests"] == "9"


def test_unmeasured_claims_are_skipped_with_the_reason(tmp_path: Path) -> None:
    write_index(tmp_path)
    write_tolerances(tmp_path)
    run = make_run(tmp_path, {"mobilenetv2_140": Outcome(accuracy_reason="no ImageNet data configured")})
    run = dataclasses.replace(run, models=[dataclasses.replace(run.models[0], measurements=[
        m for m in run.models[0].measurements if m.metric != "flops"] + [Measurement.unavailable("flops", "fvcore not installed")])])
    from zoo.judge.compare import judge
    from zoo.judge.policy import load_policy

    card = run.models[0].card
    verdicts = judge(card, run.models[0].measurements, load_policy(tmp_path / "metadata" / "tolerances.yml"))
    run = dataclasses.replace(run, models=[dataclasses.replace(run.models[0], verdicts=verdicts)])
    root = _parse(junit_xml(run))
    skipped = {c.attrib["name"]: c.find("skipped") for c in root.iter("testcase") if c.find("skipped") is not None}
    assert sorted(skipped) == ["flops", "top1", "top5"]
    assert "fvcore not installed" in skipped["flops"].attrib["message"]  # type: ignore[union-attr]
