"""``gtcheck fit``: a recording -> every link's delay distribution -> a scenario.

The pipeline, each step its own module:

1. the checker orders every key and says what each read saw (``check_history`` with
   ``keep_reads`` and ``keep_writes``);
2. ``observations``: one interval observation per (write, other region);
3. ``fitting``: per link, interval-censored maximum likelihood over the model's families,
   the family chosen by AIC, with intervals of the median and p99;
4. ``mirror``: the workload, the faults;
5. the scenario: every link's fit under ``[replication.pairs]``, the fit of all links
   pooled as ``replication.delay`` (it also serves a link with too few observations), the
   read latency's fit as ``regions.request_latency``; checked by the model's own parser
   before it is written.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Callable

from gtcheck.checker.check import CheckResult, check_history
from gtcheck.forecast import fitting, mirror
from gtcheck.forecast.observations import Link, Observations, observe
from gtcheck.kernel import tomlout
from gtcheck.kernel.errors import UserError
from gtcheck.kernel.units import format_duration
from gtcheck.model.scenario import Scenario, scenario_from_dict

MIN_OBSERVATIONS = 30        # a link fitted on its own needs this many observations ...
MIN_BOUNDED = 5              # ... of which this many with an upper bound (some read saw the write)


@dataclass
class LinkFit:
    source: str
    target: str
    link: Link
    fit: fitting.Fit | None          # None: too few observations (the pooled fit stands in)

    @property
    def name(self) -> str:
        return f"{self.source} -> {self.target}"


@dataclass
class FitResult:
    path: str
    check: CheckResult
    observations: Observations
    links: list[LinkFit]
    pooled: fitting.Fit | None
    latency: fitting.Fit | None
    stats: mirror.WorkloadStats
    start_ns: int
    table: dict[str, Any]            # the scenario, as TOML tables
    scenario: Scenario
    notes: list[str] = field(default_factory=list)

    def toml(self) -> str:
        return tomlout.dumps(self.table, comment(self))

    def as_dict(self) -> dict[str, Any]:
        o = self.observations
        return {"history": self.path, "timing": o.timing, "reads_used": o.reads_used,
                "links": [{"link": lf.name, "observations": lf.link.n, "with_upper_bound": lf.link.bounded,
                           "set_aside_faults": lf.link.set_aside_faults,
                           "fit": None if lf.fit is None else lf.fit.summary()} for lf in self.links],
                "pooled": None if self.pooled is None else self.pooled.summary(),
                "request_latency": None if self.latency is None else self.latency.summary(),
                "unordered_keys": o.unordered_keys, "notes": self.notes, "scenario": self.table}


def _fit_link(link: Link, seed: int) -> fitting.Fit | None:
    if link.n < MIN_OBSERVATIONS or link.bounded < MIN_BOUNDED:
        return None
    return fitting.fit(link.low, link.high, seed=seed)


def fit_history(path: str, *, seed: int = 1, jobs: int = 1, timing: str = "auto", reads: str = "auto",
                name: str | None = None, progress: Callable[[str], None] | None = None) -> FitResult:
    say = progress or (lambda _: None)
    say("checking the history (what every read saw)")
    result = check_history(path, jobs=jobs, keep_reads=True, keep_writes=True)
    say("collecting interval observations")
    obs = observe(result, timing=timing, reads=reads)
    notes = []
    if obs.unordered_keys:
        notes.append(f"{obs.unordered_keys} key(s) could not be ordered by the checker: nothing observed there")
    links = []
    for (a, b), link in obs.links.items():
        say(f"fitting {a} -> {b} ({link.n} observations)")
        lf = LinkFit(a, b, link, _fit_link(link, seed))
        if lf.fit is None:
            notes.append(f"{lf.name}: {link.n} observations ({link.bounded} with an upper bound) are too few "
                         f"to fit on their own (at least {MIN_OBSERVATIONS} and {MIN_BOUNDED}); the pooled fit stands in")
        if link.set_aside_faults:
            notes.append(f"{lf.name}: {link.set_aside_faults} observation(s) overlapped a fault and were set aside")
        links.append(lf)
    low = [x for lf in links for x in lf.link.low]
    high = [x for lf in links for x in lf.link.high]
    bounded = sum(lf.link.bounded for lf in links)
    if len(low) < MIN_OBSERVATIONS or bounded < MIN_BOUNDED:
        raise UserError(f"{len(low)} interval observation(s) of replication ({bounded} with an upper bound): too few "
                        f"to fit a delay (at least {MIN_OBSERVATIONS} and {MIN_BOUNDED})", where=path,
                        hint="a recording needs reads in one region of items written in another, some while the "
                             "write is on its way and some after it arrived (docs/forecast.md, 'What a recording "
                             "needs')")
    pooled = fitting.fit(low, high, seed=seed)
    latency = fitting.fit_exact(obs.read_latencies, seed=seed) if len(obs.read_latencies) >= 2 else None
    say("mirroring the workload")
    st = mirror.scan(path)
    t0 = mirror.start_ns(st, obs.windows)
    table, more = scenario_table(name or _stem(path), st, obs, links, pooled, latency, t0)
    notes += more
    try:
        scenario = scenario_from_dict(table, name=table["name"])
    except UserError as exc:       # what we write must load: anything else is our bug
        raise AssertionError(f"the fitted scenario does not load: {exc.render()}") from exc
    return FitResult(path, result, obs, links, pooled, latency, st, t0, table, scenario, notes)


def _stem(path: str) -> str:
    base = path.rsplit("/", 1)[-1]
    for suffix in (".gz", ".jsonl", ".edn"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    return f"{base}-fitted"


def scenario_table(name: str, st: mirror.WorkloadStats, obs: Observations, links: list[LinkFit],
                   pooled: fitting.Fit | None, latency: fitting.Fit | None, t0: int) -> tuple[dict[str, Any], list[str]]:
    header = st.header
    regions: dict[str, Any] = {"names": list(header.regions)}
    if latency is not None:
        regions["request_latency"] = latency.spec()
    witness = header.meta.get("witness")
    if header.mode == "strong" and isinstance(witness, str):
        regions["witness"] = witness
    replication: dict[str, Any] = {}
    if pooled is not None:
        replication["delay"] = pooled.spec()
    pairs = {lf.name: lf.fit.spec() for lf in links if lf.fit is not None}
    if pairs:
        replication["pairs"] = pairs
    wl = mirror.workload(st)
    duration_ns = int(wl["duration"][:-2]) * mirror.MS
    faults, notes = mirror.faults(obs.windows, t0, (st.last_ns or 0))
    kept = [f for f in faults if int(f["at"][:-2]) < duration_ns]
    if len(kept) < len(faults):
        notes.append(f"{len(faults) - len(kept)} fault(s) began after the recorded workload: not mirrored")
    table: dict[str, Any] = {"name": name, "description": f"fitted by gtcheck fit from {st.header.meta.get('scenario', 'a recording')}",
                             "mode": header.mode, "regions": regions}
    if replication:
        table["replication"] = replication
    table["workload"] = wl
    table["final"] = {"reads": header.settled_after_ns is not None}
    if kept:
        table["faults"] = kept
    return table, notes


def comment(fr: FitResult) -> str:
    o = fr.observations
    lines = [f"Fitted by gtcheck fit from {fr.path} on {_dt.date.today().isoformat()}.",
             f"Each link's replication delay: interval-censored maximum likelihood over {sum(lf.link.n for lf in fr.links)}",
             f"observations (timing: {o.timing}; reads used: {o.reads_used}), the family chosen by AIC:"]
    for lf in fr.links:
        if lf.fit is None:
            lines.append(f"  {lf.name}: too few observations ({lf.link.n}); the pooled fit stands in")
            continue
        f = lf.fit
        lines.append(f"  {lf.name}: {f.family}, median {_ci(f.median_ns, f.median_ci_ns)}, "
                     f"p99 {_ci(f.p99_ns, f.p99_ci_ns)} ({f.n} observations)")
    lines += ["The workload mirrors the recording (keys, Zipf skew, mix, strong-read share, clients, rate,",
              "duration, faults). Not visible in a recording, left at the model's defaults: copies per",
              "region, write quorum, copy lag, coalescing, clock offsets.",
              "Reproduce: gtcheck fit " + fr.path + " -o SCENARIO.toml --compare"]
    lines += [f"Note: {n}" for n in fr.notes]
    return "\n".join(lines)


def _ci(x: float, ci: tuple[float, float] | None) -> str:
    t = format_duration(int(round(x)))
    if ci is None:
        return t
    return f"{t} [95%: {format_duration(int(round(ci[0])))}, {format_duration(int(round(ci[1])))}]"


def text(fr: FitResult) -> str:
    """The fits as a table for people."""
    o = fr.observations
    head = ["link", "observations", "family", "median [95% CI]", "p99 [95% CI]", "next best (dAIC)", "set aside"]
    rows = []
    for lf in fr.links:
        f = lf.fit
        if f is None:
            rows.append([lf.name, f"{lf.link.n} ({lf.link.bounded} bounded)", "too few: pooled fit", "", "", "",
                         str(lf.link.set_aside_faults)])
            continue
        nxt = f.candidates[1] if len(f.candidates) > 1 else None
        rows.append([lf.name, f"{f.n} ({f.bounded} bounded)", f.family, _ci(f.median_ns, f.median_ci_ns),
                     _ci(f.p99_ns, f.p99_ci_ns), f"{nxt.family} (+{nxt.aic - f.aic:.1f})" if nxt else "",
                     str(lf.link.set_aside_faults)])
    widths = [max(len(x) for x in col) for col in zip(head, *rows)]
    out = [f"fit of {fr.path}: {len(fr.check.reads or [])} reads judged; timing {o.timing}, reads used: {o.reads_used}",
           "  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip()]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    if fr.pooled is not None:
        out.append(f"all links pooled: {fr.pooled.family}, median {_ci(fr.pooled.median_ns, fr.pooled.median_ci_ns)}, "
                   f"p99 {_ci(fr.pooled.p99_ns, fr.pooled.p99_ci_ns)}")
    if fr.latency is not None:
        out.append(f"read latency: {fr.latency.family}, median {format_duration(int(fr.latency.median_ns))}, "
                   f"p99 {format_duration(int(fr.latency.p99_ns))}")
    out += [f"note: {n}" for n in fr.notes]
    return "\n".join(out) + "\n"
