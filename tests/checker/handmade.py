"""Building small hand-made histories for the checker's rule tests."""

from __future__ import annotations

import json
from pathlib import Path

MS = 1_000_000
PROPS = ("integrity", "convergence", "read_after_write", "staleness")


def write(tmp_path: Path, events: list[dict], name: str = "h.jsonl", **header) -> Path:
    head = {"format": "gt-history", "version": 1, "regions": ["us-east-1", "eu-west-1"],
            "mode": "eventual", "clock_uncertainty_ns": 0}
    head.update(header)
    p = tmp_path / name
    p.write_text("\n".join(json.dumps(e) for e in [head] + events) + "\n")
    return p


def names(summary) -> list[tuple[str, list[int]]]:
    return sorted((a["name"], a["ops"]) for p in PROPS for a in summary[p]["anomalies"])


def ev(index, typ, process, f, time, region="us-east-1", key="k", **kw) -> dict:
    e = {"index": index, "type": typ, "process": process, "region": region, "f": f,
         "key": key, "time": time}
    if f == "read" and typ == "invoke":
        e["value"] = None
    e.update(kw)
    return e


