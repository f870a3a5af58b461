"""Rule 8 of the history format: an unknown post-image of an update is the change applied
to *some version* of the key (hand-made histories, and the candidate versions against a
forward enumeration of every chain of changes)."""

from __future__ import annotations

import random

from hypothesis import given, settings, strategies as st

from gtcheck.checker.candidates import _Versions, canon
from gtcheck.checker.check import check_history
from gtcheck.checker.operations import Operation
from gtcheck.kernel.items import apply_change
from tests.checker.handmade import MS, ev, write


def _rule8_history(reads: list[dict], updates: list[dict], first=None) -> list[dict]:
    """A write of ``first`` (default {"v": 1, "n": 5, "l": [1]}), info updates with the
    given changes (all in flight until the end: their post-images are unknown), then eventual
    reads of the given values."""
    events, i, t = [], 0, 0
    first = {"v": 1, "n": 5, "l": [1]} if first is None else first
    events += [ev(0, "invoke", 1, "write", 0, value=first),
           ev(1, "ok", 1, "write", MS, value=first, ts=1)]
    i, t = 2, 2 * MS
    for n, change in enumerate(updates):
        events += [ev(i, "invoke", 10 + n, "update", t, value=change),
               ev(i + 1, "info", 10 + n, "update", t + MS)]
        i, t = i + 2, t + 2 * MS
    for value in reads:
        events += [ev(i, "invoke", 2, "read", t, region="eu-west-1"),
               ev(i + 1, "ok", 2, "read", t + MS, region="eu-west-1", value=value)]
        i, t = i + 2, t + 2 * MS
    return events


def _read_verdicts(tmp_path, reads, updates, first=None) -> list[str]:
    """For each read (in order): "ok" when it passed integrity, else the anomaly's name."""
    s = check_history(write(tmp_path, _rule8_history(reads, updates, first)), jobs=1).summary
    failed = {a["ops"][0]: a["name"] for a in s["integrity"]["anomalies"]}
    first_read = 2 + 2 * len(updates)
    return [failed.get(first_read + 2 * n, "ok") for n in range(len(reads))]


def test_rule8_an_attribute_no_version_has_is_a_phantom_read(tmp_path):
    # agrees with the change (a = 5) but "zz" is in no version: no version + change gives it
    assert _read_verdicts(tmp_path, [{"v": 1, "n": 5, "l": [1], "a": 5},
                                     {"v": 1, "n": 5, "l": [1], "a": 5, "zz": 9},
                                     {"v": 2, "n": 5, "l": [1], "a": 5},
                                     {"a": 5}],
                          [{"set": {"a": 5}}]) == ["ok", "phantom-read", "phantom-read", "ok"]


def test_rule8_remove_and_numeric_add(tmp_path):
    assert _read_verdicts(tmp_path, [{"v": 1, "n": 7},
                                     {"v": 1, "n": 8},
                                     {"v": 1, "l": [1], "n": 7},
                                     {"n": 2}],
                          [{"remove": ["l"], "add": {"n": 2}}]) == [
        "ok", "phantom-read", "phantom-read", "ok"]


def test_rule8_list_add(tmp_path):
    assert _read_verdicts(tmp_path, [{"v": 1, "n": 5, "l": [1, 3]},
                                     {"v": 1, "n": 5, "l": [2, 3]},
                                     {"v": 1, "n": 5, "l": [3]},
                                     {"l": [3]}],
                          [{"add": {"l": [3]}}]) == ["ok", "phantom-read", "phantom-read", "ok"]


def test_rule8_chains_of_unknown_post_images(tmp_path):
    """An unknown post-image is itself a version another info update may apply to."""
    assert _read_verdicts(tmp_path, [{"v": 1, "n": 5, "l": [1], "a": 1, "b": 2},
                                     {"v": 1, "n": 5, "l": [1], "b": 2},
                                     {"a": 1, "b": 2},
                                     {"v": 1, "n": 5, "l": [1], "a": 1, "b": 2, "c": 3}],
                          [{"set": {"a": 1}}, {"set": {"b": 2}}]) == [
        "ok", "ok", "ok", "phantom-read"]





_ATTRS = ("a", "b", "n", "l")


def _random_change(rng) -> dict:
    change: dict = {}
    for k in rng.sample(_ATTRS, rng.randint(1, 2)):
        kind = rng.choice(["set", "remove", "add"])
        if kind == "set":
            change.setdefault("set", {})[k] = rng.choice([0, 1, 2, [1], "x"])
        elif kind == "remove":
            change.setdefault("remove", []).append(k)
        else:
            change.setdefault("add", {})[k] = rng.choice([1, 2, -1, [1], [2, 1]])
    return change


def _random_item(rng) -> dict | None:
    if rng.random() < 0.2:
        return None
    return {k: rng.choice([0, 1, 3, [1], [2], "x"]) for k in _ATTRS if rng.random() < 0.5}


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_rule8_post_images_match_forward_enumeration(seed):
    """The backwards search accepts a value for an update exactly when applying the update,
    after any chain of the other unknown updates (each at most once), to some version gives
    it (brute force, forwards)."""
    rng = random.Random(seed)
    bases = [None] + [_random_item(rng) for _ in range(rng.randint(0, 3))]
    updates = [Operation(index=i, process=i, region="r", f="update", key="k",
                         invoke_value=_random_change(rng), value=None, outcome="info",
                         invoke_time=i, complete_time=None) for i in range(rng.randint(1, 3))]
    versions = _Versions(bases, updates)

    def closure(avail):
        out = {canon(b if isinstance(b, dict) else {}): (b if isinstance(b, dict) else {})
               for b in bases}
        frontier = [(v, tuple(avail)) for v in out.values()]
        while frontier:
            v, left = frontier.pop()
            for j, u in enumerate(left):
                w = apply_change(v, u.invoke_value)
                c = canon(w)
                if c not in out:
                    out[c] = w
                frontier.append((w, left[:j] + left[j + 1:]))
        return out
    for u in updates:
        others = [o for o in updates if o is not u]
        post = {canon(apply_change(v, u.invoke_value)) for v in closure(others).values()}
        probes = [apply_change(v, u.invoke_value) for v in closure(updates).values()]
        probes += [dict(p, z=1) for p in probes[:3]] + [_random_item(rng) or {} for _ in range(5)]
        for value in probes:
            cv = canon(value)
            assert versions.produced(u, value, cv) == (cv in post), (value, u.invoke_value)
