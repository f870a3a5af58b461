"""Small simulated histories for tests that need many keys, faults and both modes: a
scenario of reads, writes, deletes and increments over 40 keys in three regions, with an
isolation and a replication delay drawn from the seed."""

from __future__ import annotations

from pathlib import Path

SCENARIO = """name = "small-{mode}"
mode = "{mode}"
[workload]
keys = 40
processes_per_region = 3
rate = 400
duration = "{duration}"
strong_reads = 0.3
[workload.mix]
read = 0.5
write = 0.3
delete = 0.1
increment = 0.1
[random_faults]
count = 2
kinds = ["isolate", "replication-delay"]
min_duration = "500ms"
max_duration = "1s"
"""


def simulate_small(directory: Path, mode: str = "eventual", seed: int = 1,
                   duration: str = "3s") -> Path:
    """Simulate the scenario into ``directory``; return the history's path (3 s: about
    1,100 operations; 60 s: about 36,000)."""
    from gtcheck.model.scenario import load_scenario
    from gtcheck.model.simulator import simulate

    scenario = directory / f"{mode}-{duration}.toml"
    scenario.write_text(SCENARIO.format(mode=mode, duration=duration))
    out = directory / f"{mode}-{seed}-{duration}.jsonl"
    simulate(load_scenario(scenario), seed, out)
    return out
