"""An application's CI gate on the model of global tables (the ``gtcheck_model`` fixture of
gtcheck's pytest plugin, registered as ``pytest11: gtcheck``). Run: ``pytest docs/examples``.

The app keeps a per-user counter of page views and writes it from every region. The first
test states the invariant the app relies on and fails with a shrunk counterexample (global
tables lose concurrent increments); the second is the fix (one counter item per region,
summed on read: no two regions ever increment the same item) and passes."""

SCENARIO = {
    "name": "page-views",
    "regions": {"names": ["us-east-1", "eu-west-1"], "copies": 1, "write_quorum": 1},
    "replication": {"delay": {"dist": "uniform", "low": "100ms", "high": "1s"}},
    "workload": {"keys": 1, "duration": "5s", "mix": {"increment": 1}},
    "random_faults": {"count": 1, "kinds": ["isolate"], "min_duration": "1s", "max_duration": "2s"},
}


def test_increments_from_every_region_are_counted(gtcheck_model):
    gtcheck_model.holds_by_search(SCENARIO, invariant="counter_matches_increments", budget=100)


def test_per_region_counters_are_counted(gtcheck_model):
    # every region increments its own item: exploration of both regions' increments
    per_region = {
        "name": "page-views-per-region",
        "regions": {"names": ["us-east-1", "eu-west-1"], "copies": 1, "write_quorum": 1},
        "script": [{"at": "0s", "region": r, "f": "update", "key": f"views#{r}", "add": {"n": 1}}
                   for r in ("us-east-1", "eu-west-1") for _ in range(2)],
    }
    gtcheck_model.holds_by_exploration(per_region, invariant="counter_matches_increments")
