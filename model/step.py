"""The step interface: the model's rules driven one action at a time.

For a search or an explorer. A ``StepWorld`` runs a scripted scenario (its ``[[script]]``
requests; docs/scenarios.md) with no clock of its own and no randomness: every decision
the timed simulator leaves to its seeded ``Choices`` is an *action* here, chosen by the
caller from ``enabled()``:

- ``request``: a client carries out its next scripted request at its region (evaluate,
  stamp, acknowledge once ``write_quorum`` copies hold it; a read is answered). An
  eventually consistent read has one action per copy that may serve it.
- ``deliver``: the oldest version of an item queued on a link (source -> target region)
  reaches the target's leader copy: per item in order, per link.
- ``coalesce``: that oldest queued version is dropped because a newer version of the
  item is queued behind it on the same link.
- ``copy``: a version on its way to a follower copy (one that was not in the write
  quorum, or in a remote region) reaches it.
- ``nemesis``: the scenario's next ``isolate`` fault event (partition or heal), in time
  order. While a region is isolated no delivery to or from it is enabled.

Versions are applied by ``lww.merge``, writes stamped by ``rules.stamp`` at the region
clock of the request's scripted time (time only moves forward: a request runs at the
later of its ``at`` and the latest time seen). Requests complete in one action.
Replication-delay faults need no modelling here (any delivery order is an action
sequence); outages, failover, TTL and the random workload are the timed simulator's
business.

Strong mode (``mode = "strong"``): a write or a strongly consistent read is one action
too, so it is atomic here: it is carried out against the head of the item's log (the latest
acknowledged version) when its region and at least one other region (or the witness) are
not isolated, and otherwise times out (``info``, no effect). Its version then replicates
as in eventual mode, and eventually consistent reads still read a local copy. Requests being
atomic, two never overlap: the replication conflict is the timed simulator's.

``snapshot()`` and ``restore()`` copy the state; ``fingerprint()`` is a digest of what
determines the future (storage, queues, clients' progress, time), equal for equal states
however reached. The history so far (``history()``) and, per copy, which versions reached
it are observations, kept in the state but outside the fingerprint.
"""

from __future__ import annotations

import hashlib
from typing import Any, NamedTuple

import orjson

from gtcheck.kernel import itemspec
from gtcheck.kernel.jsonlines import history_header
from gtcheck.model.choices import Choices
from gtcheck.model.clocks import RegionClocks
from gtcheck.model.faults import FaultPlan
from gtcheck.model.lww import Version, merge
from gtcheck.model.rules import Rules, evaluate, invoke_event, stamp, strong_reachable
from gtcheck.model.scenario import Scenario, refuse_messages
from gtcheck.model.workload import tag


class Action(NamedTuple):
    kind: str              # request | deliver | coalesce | copy | nemesis
    client: str = ""       # request: the client
    copy: int = -1         # request: the copy serving an eventual read (-1: the rules decide)
    source: int = -1       # deliver, coalesce: the link's source region (index)
    target: int = -1       # deliver, coalesce: the link's target region; copy: the slot
    key: str = ""          # deliver, coalesce, copy: the item
    write_id: int = -1     # copy: the version


class _Part:
    __slots__ = ("f", "key", "value", "condition", "consistent", "write_id")

    def __init__(self, req: dict[str, Any], write_id: int):
        self.f: str = req["f"]
        self.key: str = req["key"]
        self.value: Any = req.get("value")
        self.condition: dict[str, Any] | None = req.get("condition")
        self.consistent: bool = bool(req.get("consistent", False))
        self.write_id = write_id


class _Request:
    __slots__ = ("at", "region", "process", "parts", "txn")

    def __init__(self, at: int, region: str, process: int | str, parts: list[_Part], txn: int):
        self.at = at
        self.region = region
        self.process = process
        self.parts = parts
        self.txn = txn           # 0: not a transaction


class _Served(Choices):
    """The eventual-read copy decision, as the ``Choices`` a rule asks."""

    def __init__(self, copy: int):
        self.copy = copy

    def eventual_copy(self, copies: int) -> int:
        return self.copy


class StepState:
    """Everything a step changes. ``slots[key][region * copies + copy]``."""

    def __init__(self) -> None:
        self.slots: dict[str, list[Version | None]] = {}
        self.links: dict[tuple[int, int, str], list[Version]] = {}      # non-empty FIFO queues
        self.followers: dict[tuple[str, int], list[Version]] = {}       # (key, slot) -> on the way
        self.pc: dict[str, int] = {}                                    # client -> next request
        self.nemesis = 0                                                # next fault event
        self.isolated: list[int] = []                                   # per region: windows open
        self.now = 0
        # observations, outside the fingerprint
        self.index = 0
        self.log: list[dict[str, Any]] = []
        self.reached: dict[tuple[str, int], list[int]] = {}             # (key, slot) -> write ids
        self.versions: dict[int, Version] = {}                          # write id -> version
        self.heads: dict[str, Version] = {}       # strong mode: per key, the head of its log

    def copy(self) -> "StepState":
        s = StepState()
        s.slots = {k: list(v) for k, v in self.slots.items()}
        s.links = {k: list(v) for k, v in self.links.items()}
        s.followers = {k: list(v) for k, v in self.followers.items()}
        s.pc = dict(self.pc)
        s.nemesis = self.nemesis
        s.isolated = list(self.isolated)
        s.now = self.now
        s.index = self.index
        s.log = list(self.log)
        s.reached = {k: list(v) for k, v in self.reached.items()}
        s.versions = dict(self.versions)
        s.heads = dict(self.heads)
        return s


def _v(v: Version | None) -> Any:
    return None if v is None else [v[0], v[1], v[2], v[3], v[4]]


class StepWorld:
    """A scripted scenario as a transition system over ``StepState``."""

    def __init__(self, scenario: Scenario, rules: Rules | None = None):
        refuse_messages(scenario, "the step interface (search, explore)")
        self.sc = scenario
        self.rules = rules if rules is not None else Rules()
        self.regions = list(scenario.regions)
        self.rix = {r: i for i, r in enumerate(self.regions)}
        self.copies = scenario.copies
        self.quorum = scenario.write_quorum
        self.strong = scenario.strong
        self.witness = scenario.witness
        self.clocks = RegionClocks(scenario, FaultPlan(scenario, []))
        self.programs: dict[str, list[_Request]] = {}
        self.process_of: dict[str, int | str] = {}
        rev, txn, write_id, auto = 0, 0, 0, 0
        for entry in scenario.script:
            process: int | str
            if entry.process is None:
                auto += 1
                process = f"s{auto}"
            else:
                process = entry.process
            name = str(process)
            if self.process_of.setdefault(name, process) != process:
                raise ValueError(f"clients {process!r} and {self.process_of[name]!r} share the name {name!r}")
            req = entry.request
            raw = [dict(p) for p in req["parts"]] if req["f"] == "transaction" else [dict(req)]
            parts = []
            for r in raw:
                rev = tag(r, rev)
                parts.append(_Part(r, write_id))
                write_id += 1
            if req["f"] == "transaction":
                txn += 1
            self.programs.setdefault(name, []).append(
                _Request(entry.at_ns, entry.region, process, parts, txn if req["f"] == "transaction" else 0))
        self.key_of = {p.write_id: p.key for prog in self.programs.values() for r in prog for p in r.parts}
        # the isolate faults' events in time order: (time, +1 partition / -1 heal, region)
        # (strong mode: the witness, if any, has the index after the regions')
        self.names = self.regions + ([scenario.witness] if scenario.witness is not None else [])
        index = {r: i for i, r in enumerate(self.names)}
        events: list[tuple[int, int, int]] = []
        for f in scenario.faults:
            if f.kind == "isolate" and f.region is not None and f.duration_ns > 0:
                events.append((f.at_ns, 1, index[f.region]))
                events.append((f.end_ns, -1, index[f.region]))
        events.sort(key=lambda e: (e[0], -e[1], e[2]))
        self.faults = events
        self.state = StepState()
        self.state.isolated = [0] * len(self.names)
        for name in self.programs:
            self.state.pc[name] = 0

    # ------------------------------------------------------------------ the interface
    def enabled(self) -> list[Action]:
        """Every action possible in the current state, in a deterministic order."""
        st = self.state
        out: list[Action] = []
        for name in sorted(self.programs):
            program = self.programs[name]
            i = st.pc[name]
            if i < len(program):
                part = program[i].parts[0]
                if part.f == "read" and not part.consistent:
                    out.extend(Action("request", name, c) for c in range(self.copies))
                else:
                    out.append(Action("request", name))
        if st.nemesis < len(self.faults):
            out.append(Action("nemesis"))
        cut = st.isolated
        for (o, d, key) in sorted(st.links):
            if not cut[o] and not cut[d]:
                out.append(Action("deliver", source=o, target=d, key=key))
            if len(st.links[(o, d, key)]) > 1:
                out.append(Action("coalesce", source=o, target=d, key=key))
        for (key, slot) in sorted(st.followers):
            for v in st.followers[(key, slot)]:
                out.append(Action("copy", target=slot, key=key, write_id=v[2]))
        return out

    def step(self, action: Action) -> None:
        """Take ``action`` (one of ``enabled()``), changing the state in place."""
        kind = action.kind
        st = self.state
        if kind == "request":
            program = self.programs[action.client]
            i = st.pc[action.client]
            if i >= len(program):
                raise ValueError(f"client {action.client} has no request left")
            first = program[i].parts[0]
            if first.f == "read" and not first.consistent and not 0 <= action.copy < self.copies:
                raise ValueError(f"an eventually consistent read needs the copy that serves it (0 to "
                                 f"{self.copies - 1}), not {action.copy}")
            st.pc[action.client] = i + 1
            self._request(program[i], action.copy)
        elif kind == "deliver" or kind == "coalesce":
            link = (action.source, action.target, action.key)
            queue = st.links.get(link)
            if not queue or (kind == "coalesce" and len(queue) < 2) or (
                    kind == "deliver" and (st.isolated[action.source] or st.isolated[action.target])):
                raise ValueError(f"{kind} is not enabled on {link}")
            v = queue.pop(0)
            if not queue:
                del st.links[link]
            if kind == "deliver":
                self._arrive(action.key, v, action.target)
        elif kind == "copy":
            where = (action.key, action.target)
            pending = st.followers.get(where)
            found = None if pending is None else next((v for v in pending if v[2] == action.write_id), None)
            if pending is None or found is None:
                raise ValueError(f"no version {action.write_id} on its way to {where}")
            pending.remove(found)
            if not pending:
                del st.followers[where]
            self._apply(action.key, action.target, found)
        elif kind == "nemesis":
            if st.nemesis >= len(self.faults):
                raise ValueError("no fault event left")
            at, change, region = self.faults[st.nemesis]
            st.nemesis += 1
            st.isolated[region] += change
            if at > st.now:
                st.now = at
            self._emit({"index": 0, "type": "info", "process": "nemesis", "f": "partition" if change > 0 else "heal",
                        "value": {"isolate": [self.names[region]]}, "time": st.now})
        else:
            raise ValueError(f"unknown action {kind!r}")

    def snapshot(self) -> StepState:
        return self.state.copy()

    def restore(self, snapshot: StepState) -> None:
        self.state = snapshot.copy()

    def fingerprint(self) -> str:
        st = self.state
        canon = [
            st.now,
            sorted([k, [_v(v) for v in vs]] for k, vs in st.slots.items()),
            sorted([o, d, k, [_v(v) for v in q]] for (o, d, k), q in st.links.items()),
            sorted([k, s, sorted(_v(v) for v in vs)] for (k, s), vs in st.followers.items()),
            sorted([c, i] for c, i in st.pc.items()),
            st.nemesis,
            st.isolated,
        ]
        if st.heads:    # strong mode only: eventual-mode fingerprints are as they were
            canon.append(sorted([k, _v(v)] for k, v in st.heads.items()))
        return hashlib.blake2b(orjson.dumps(canon, option=orjson.OPT_SORT_KEYS), digest_size=16).hexdigest()

    def after(self, action: Action) -> StepState:
        """The state ``action`` leads to; the world's own state is left as it is."""
        before = self.state
        self.state = before.copy()
        try:
            self.step(action)
            return self.state
        finally:
            self.state = before

    def history(self) -> list[dict[str, Any]]:
        """The history so far (events without the header; see ``header()``)."""
        return list(self.state.log)

    def header(self) -> dict[str, Any]:
        """A history header for ``history()`` (no settled phase: no final reads)."""
        header = history_header(self.regions, mode=self.sc.mode, clock_uncertainty_ns=0,
                                ts_uncertainty_ns=self.clocks.max_abs_offset(self.state.now) + 2_000,
                                meta={"source": "model", "scenario": self.sc.name})
        if self.witness is not None:
            header["witness"] = self.witness
        return header

    def quiescent(self) -> bool:
        """No version is on its way anywhere."""
        return not self.state.links and not self.state.followers

    def violations(self) -> list[str]:
        """Broken invariants of the current state (empty: none): every copy holds the LWW
        join of the versions that reached it; every link queue is in stamp order; once
        nothing is on its way, every copy of an item holds the join of all its versions."""
        st = self.state
        bad = []
        for (key, slot), ids in st.reached.items():
            join: Version | None = None
            for w in ids:
                join = merge(join, st.versions[w])
            if st.slots[key][slot] != join:
                bad.append(f"{key} slot {slot} holds {_v(st.slots[key][slot])}, not the join {_v(join)}")
        for link, queue in st.links.items():
            for a, b in zip(queue, queue[1:]):
                if merge(a, b) is not b or a is b:
                    bad.append(f"link {link} is out of order: {_v(a)} before {_v(b)}")
        if self.quiescent():
            for key, slots in st.slots.items():
                join = None
                for w, v in st.versions.items():
                    if self.key_of[w] == key:
                        join = merge(join, v)
                if any(s != join for s in slots):
                    bad.append(f"{key} did not converge to the join {_v(join)}")
        return bad

    # ------------------------------------------------------------------ the rules, applied
    def _slots(self, key: str) -> list[Version | None]:
        slots = self.state.slots.get(key)
        if slots is None:
            slots = self.state.slots[key] = [None] * (len(self.regions) * self.copies)
        return slots

    def _apply(self, key: str, slot: int, v: Version) -> None:
        slots = self._slots(key)
        slots[slot] = merge(slots[slot], v)
        self.state.reached.setdefault((key, slot), []).append(v[2])

    def _arrive(self, key: str, v: Version, region: int) -> None:
        """``v`` reaches ``region``'s leader copy; it follows to the other copies."""
        C = self.copies
        self._apply(key, region * C, v)
        for c in range(1, C):
            self.state.followers.setdefault((key, region * C + c), []).append(v)

    def _install(self, key: str, v: Version, origin: int) -> None:
        """A version stamped at ``origin``: the write quorum holds it, the other copies
        and every other region get it later."""
        st = self.state
        C = self.copies
        for c in range(C):
            if c < self.quorum:
                self._apply(key, origin * C + c, v)
            else:
                st.followers.setdefault((key, origin * C + c), []).append(v)
        for d in range(len(self.regions)):
            if d != origin:
                st.links.setdefault((origin, d, key), []).append(v)

    def _emit(self, event: dict[str, Any]) -> None:
        st = self.state
        event["index"] = st.index
        st.index += 1
        st.log.append(event)

    def _invoke(self, req: _Request, part: _Part, t: int) -> None:
        self._emit(invoke_event(req.process, req.region, part.f, part.key, part.value, part.consistent,
                                part.condition, req.txn, t))

    def _request(self, req: _Request, copy: int) -> None:
        """A client's request, start to finish, at its region (recorded as the timed
        simulator records it: a transaction's later items are invoked as it completes)."""
        st = self.state
        t = req.at if req.at > st.now else st.now
        st.now = t
        region = req.region
        o = self.rix[region]
        C = self.copies
        first = req.parts[0]
        self._invoke(req, first, t)
        if self.strong and (first.consistent or first.f != "read"):
            self._request_strong(req, first, t)
            return
        if first.f == "read":
            served = self.rules.read_copy(first.consistent, C, _Served(copy))
            v = self._slots(first.key)[o * C + served]
            self._emit({"index": 0, "type": "ok", "process": req.process, "region": region, "f": "read",
                        "key": first.key, "value": self.rules.read_value(v, t), "time": t})
            return
        results = []
        ok_all = True
        for part in req.parts:     # all or nothing: every condition at the origin first
            stored = self._slots(part.key)[o * C]
            new_item, ok, answer = evaluate(stored, itemspec.Request(part.f, part.key, part.value, part.condition))
            ok_all = ok_all and ok
            results.append((stored, new_item, answer))
        for i, part in enumerate(req.parts):
            if i > 0:
                self._invoke(req, part, t)
            stored, new_item, answer = results[i]
            event: dict[str, Any] = {"index": 0, "type": "ok" if ok_all else "fail", "process": req.process,
                                     "region": region, "f": part.f, "key": part.key, "value": None, "time": t}
            if ok_all:
                self._commit(part, region, o, t, stored, new_item, answer, event)
            self._emit(event)

    def _commit(self, part: _Part, region: str, o: int, t: int, stored: Version | None, new_item: Any,
                answer: Any, event: dict[str, Any]) -> Version:
        """A write that took effect at its origin: stamped after ``stored``, installed there and
        queued for every link, and its ok event completed with what the client sees."""
        ts = stamp(self.clocks.now_us(region, t), stored)
        v = Version(ts, region, part.write_id, new_item, new_item is None)
        self.state.versions[part.write_id] = v
        self._install(part.key, v, o)
        event["value"] = answer
        event["ts"] = ts
        event["origin"] = region
        return v

    def _request_strong(self, req: _Request, part: _Part, t: int) -> None:
        """Strong mode: a write or strongly consistent read, atomic. It needs its region and
        one other (or the witness) to be connected; then a read returns the head of the
        item's log, and a write is evaluated against it, stamped after it, becomes the new
        head, and replicates. Otherwise the client times out (``info``) and nothing changes."""
        st = self.state
        region = req.region
        o = self.rix[region]
        event: dict[str, Any] = {"index": 0, "type": "ok", "process": req.process, "region": region, "f": part.f,
                                 "key": part.key, "value": None, "time": t}
        reachable = strong_reachable(not st.isolated[o], [not st.isolated[d] for d in range(len(self.names)) if d != o])
        head = st.heads.get(part.key)
        if not reachable:
            event["type"] = "info"
        elif part.f == "read":
            event["value"] = self.rules.read_value(head, t)
        else:
            new_item, ok, answer = evaluate(head, itemspec.Request(part.f, part.key, part.value, part.condition))
            if not ok:
                event["type"] = "fail"
            else:
                st.heads[part.key] = self._commit(part, region, o, t, head, new_item, answer, event)
        self._emit(event)
