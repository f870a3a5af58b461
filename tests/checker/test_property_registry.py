"""The property registry (``checker.props``): what a property is, it declares once, and
every output derives from it.

The example property below, ``no_null_reads`` ("no ok read returns an absent item"), is
registered by this test alone: no other file knows it. It must appear in the summary (JSON),
the text verdict, the JUnit XML, the HTML report, ``gtcheck search --property`` (alone and
under ``valid``) and ``check --help``, which shows that adding a property touches its
module, its docs and its tests only.
"""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from gtcheck.checker import props as registry
from gtcheck.checker.anomalies import AnomalyKind, make, op_ref
from gtcheck.checker.check import check_history
from gtcheck.checker.output import render
from gtcheck.checker.props.base import (anomalies_of, counts_or_reason, no_merge, plural,
                                        verdict_word)
from gtcheck.kernel.units import format_duration
from tests.clihelp import run_cli

ROOT = Path(__file__).resolve().parents[2]
ANOM = ROOT / "histories" / "anomalies"
MS = 1_000_000


def no_null_reads_module() -> types.ModuleType:
    """A whole property in a few lines: declaration, per-key judgement, verdict, summary."""
    m = types.ModuleType("no_null_reads")
    m.NAME = "no_null_reads"
    m.TITLE = "No null reads"
    m.DESCRIPTION = "No ok read returns an absent item."
    m.ORDER = 60
    m.NULL_READ = AnomalyKind("null-read", m.NAME, "Null read",
                              "an ok read returned an absent item")
    m.ANOMALIES = (m.NULL_READ,)
    m.merge = no_merge

    def judge_key(ctx: Any, res: Any) -> None:
        for op in ctx.ops:
            if op.f != "read" or op.outcome != "ok":
                continue
            res.figures["nnr_reads"] += 1
            if op.value is None:
                res.add_anomaly(make(
                    m.NULL_READ, ctx.key, [op.index],
                    f"read {op_ref(op)} at {format_duration(op.invoke_time)} returned nothing.",
                    time_ns=op.invoke_time, region=op.region), ctx.limit)

    def verdict(ctx: Any) -> dict[str, Any]:
        found, counts = anomalies_of(ctx.merged, m.ANOMALIES)
        return {"valid": verdict_word(found, False), "anomalies": found,
                "anomaly_counts": counts, "figures": {"reads": ctx.figures["nnr_reads"]}}

    def summary_line(section: dict[str, Any]) -> str:
        return counts_or_reason(section) or f"{plural(section['figures']['reads'], 'read')} returned an item"

    m.judge_key, m.verdict, m.summary_line = judge_key, verdict, summary_line
    return m


@pytest.fixture
def no_null_reads():
    module = registry.register(no_null_reads_module())
    try:
        yield module
    finally:
        registry.unregister(module.NAME)


# valid.jsonl holds for every built-in property, but its read #2 (eu-west-1, at 1.20 s, before
# the first write reached it) returns the absent initial state; stale-read.jsonl's reads
# all return an item
NULL_READ = ANOM / "valid.jsonl"
NO_NULL_READ = ANOM / "stale-read.jsonl"


def test_the_builtin_registry_lists_each_property_once_in_report_order():
    assert registry.names() == ("integrity", "convergence", "read_after_write",
                                "linearizability", "staleness", "lost_writes")
    kinds = registry.anomaly_kinds()
    assert len({k.name for k in kinds}) == len(kinds) == 11
    assert registry.fail_on_names() == ("lost-writes",)
    for prop in registry.properties():
        assert prop.TITLE and prop.DESCRIPTION.endswith(".")
        for kind in prop.ANOMALIES:
            assert kind.property == prop.NAME and registry.anomaly_kind(kind.name) is kind


def test_a_property_or_anomaly_kind_cannot_be_declared_twice(no_null_reads):
    twin = no_null_reads_module()
    with pytest.raises(ValueError, match="already registered"):
        registry.register(twin)
    twin.NAME = "other"
    twin.ANOMALIES = (AnomalyKind("null-read", "other", "x", "y"),)
    with pytest.raises(ValueError, match="declared twice"):
        registry.register(twin)
    half = types.ModuleType("half")
    half.NAME = "half"
    with pytest.raises(TypeError, match="lacks"):
        registry.register(half)


def test_a_registered_property_is_judged_and_shown_everywhere(no_null_reads, tmp_path, capsys):
    path = NULL_READ
    result = check_history(path, jobs=1, keep_reads=True)
    s = result.summary
    # JSON: its own entry, after the built-in ones, counted in the verdict
    assert list(s)[list(s).index("lost_writes") + 1] == "no_null_reads"
    section = s["no_null_reads"]
    assert section["valid"] is False and section["anomaly_counts"] == {"null-read": 1}
    (a,) = section["anomalies"]
    assert a["name"] == "null-read" and a["property"] == "no_null_reads" and a["ops"] == [2]
    assert s["valid"] is False and result.exit_code == 1
    # text
    text = render(s, "text")
    assert text.startswith("INVALID: no_null_reads failed")
    assert "  no_null_reads     INVALID  1 null-read" in text
    assert "[null-read] key 'user#7': read #2 (eu-west-1) at 1.20 s returned nothing." in text
    # JUnit: a failing test case of its own
    suite = ET.fromstring(render(s, "junit"))
    (case,) = [c for c in suite if c.get("name") == "no_null_reads"]
    assert case.find("failure").get("type") == "null-read"
    # the report: its card (title, description) and its anomaly
    from gtcheck.checker.report import write_report
    html = write_report(path, tmp_path / "r.html", check_result=result).read_text()
    assert "No null reads" in html and "No ok read returns an absent item." in html
    assert "returned nothing." in html
    # the command line, in this process (the registration is this process's)
    code, out, _ = run_cli(["check", str(path), "--no-progress", "-j", "1"], capsys)
    assert code == 1 and "no_null_reads     INVALID" in out
    code, out, _ = run_cli(["check", "--help"], capsys)
    assert "no_null_reads" in out and "No ok read returns an absent item." in out
    # without a null read it holds, and shows its own summary line
    ok = check_history(NO_NULL_READ, jobs=1).summary
    assert ok["no_null_reads"]["valid"] is True
    assert "  no_null_reads     valid    3 reads returned an item" in render(ok, "text")


def test_search_takes_a_registered_property_alone_and_under_valid(no_null_reads):
    from gtcheck.search.run import Run, builtin_property

    history = NULL_READ.read_bytes()
    for name in ("no_null_reads", "valid"):
        verdict = builtin_property(name, None)(Run([]), history)
        assert not verdict.holds
        assert verdict.message.startswith("no_null_reads: null-read: read #2 (eu-west-1)")
        assert verdict.cited == [2]
    assert builtin_property("no_null_reads", None)(Run([]), NO_NULL_READ.read_bytes()).holds


def test_search_valid_includes_linearizability():
    """`--property valid` is every property: a history where only linearizability fails
    breaks it (it did not, before the registry)."""
    from gtcheck.search.run import Run, builtin_property

    history = (ANOM / "not-linearizable.jsonl").read_bytes()
    verdict = builtin_property("valid", None)(Run([]), history)
    assert not verdict.holds and verdict.message.startswith("linearizability: not-linearizable:")
    assert not builtin_property("linearizability", None)(Run([]), history).holds


def test_nothing_in_scope_is_not_checked_in_every_output():
    """Eventual mode: linearizability is outside the history format's scope, so it is not
    checked (never valid) and does not count; with --linearizability-scope
    single-region-keys, every key written from two regions leaves nothing in its scope:
    not checked either."""
    path = ANOM / "divergent-final-state.jsonl"
    default = check_history(path, jobs=1).summary["linearizability"]
    assert default["checked"] is False and default["valid"] == "unknown"
    assert "eventual mode" in default["reason"] and "single-region-keys" in default["reason"]
    res = check_history(path, jobs=1, keep_reads=True, linearizability_scope="single-region-keys")
    s = res.summary
    lin = s["linearizability"]
    assert lin["checked"] is False and lin["valid"] == "unknown"
    assert lin["figures"]["keys_checked"] == 0 and "no key in scope" in lin["reason"]
    assert s["valid"] is False          # convergence fails; linearizability does not count
    valid = check_history(ANOM / "valid.jsonl", jobs=1).summary
    assert valid["linearizability"]["checked"] is False and valid["valid"] is True
    text = render(s, "text")
    assert "  linearizability   not checked (no key in scope" in text
    assert "linearizability   valid" not in text
    (case,) = [c for c in ET.fromstring(render(s, "junit")) if c.get("name") == "linearizability"]
    assert case.find("skipped") is not None
    from gtcheck.checker.report import build_report
    page = build_report(path, check_result=res)
    (card,) = [p for p in page["view"]["properties"] if p["id"] == "linearizability"]
    assert card["verdict"] == "not checked"
    assert "(eventual mode)" in card["about"] and "strong mode" not in card["about"]


def test_the_report_card_says_strong_mode_only_on_strong_histories(tmp_path):
    lines = (ANOM / "not-linearizable.jsonl").read_text().splitlines()
    header = json.loads(lines[0])
    from gtcheck.checker.report import build_report
    for mode in ("eventual", "strong"):
        header["mode"] = mode
        path = tmp_path / f"{mode}.jsonl"
        path.write_text("\n".join([json.dumps(header)] + lines[1:]) + "\n")
        res = check_history(path, jobs=1, keep_reads=True,
                            linearizability_scope="single-region-keys")
        cards = {p["id"]: p for p in build_report(path, check_result=res)["view"]["properties"]}
        assert ("strong mode" in cards["linearizability"]["about"]) is (mode == "strong")
        assert cards["linearizability"]["verdict"] == "invalid"


def test_docs_describe_every_property_and_anomaly_kind_of_the_registry():
    """The docs a new property or kind must touch: docs/anomalies.md and README's tables,
    docs/check.md's precise definitions."""
    anomalies_md = (ROOT / "docs" / "anomalies.md").read_text()
    readme = (ROOT / "README.md").read_text()
    check_md = (ROOT / "docs" / "check.md").read_text()
    for kind in registry.anomaly_kinds():
        shown = "(bad input)" if kind.name == "ambiguous-version" else kind.property
        assert f"| `{kind.name}` | {shown} |" in anomalies_md, kind.name
        assert f"| `{kind.name}` | {shown} |" in readme, kind.name
    for name in registry.names():
        assert f"| {name} |" in readme, name
        assert f"* **{name}**" in check_md, name
