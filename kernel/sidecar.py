"""Where a history's ground-truth sidecar lives: the model writes it, the report reads it."""

from __future__ import annotations

from pathlib import Path


def truth_path_for(history_path: str | Path) -> Path:
    """``runs/x.jsonl`` -> ``runs/x.truth.jsonl`` (``.gz`` kept)."""
    p = Path(history_path)
    name = p.name
    for suffix in (".jsonl.gz", ".jsonl"):
        if name.endswith(suffix):
            return p.with_name(name[: -len(suffix)] + ".truth" + suffix)
    return p.with_name(name + ".truth.jsonl")
