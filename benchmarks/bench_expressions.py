"""DynamoDB expressions: evaluator throughput, and the check of a recorded-style history with
expressions beside the same history written without them.

Run: python benchmarks/bench_expressions.py [--evals 20000] [--ops 1000000] [--keys 10000]
         [--jobs 2] [--update-share 0.5] [--skip-check] [--regenerate]

1. Evaluations per CPU second (one process, ``time.process_time``): a condition and an
   update, each (a) compiled once and evaluated, (b) compiled every time with the parse
   cached (a new request: new values, same text), (c) compiled every time with the parse
   cache emptied first; the short-form condition the model evaluates; and, beside them,
   moto's own parser and evaluator on the same expressions (when moto is installed).
2. The check of two generated 1M-operation histories (``bench_check.generate``: three
   regions, 10,000 keys, 1.5 % unknown outcomes, final reads) in which ``--update-share``
   of the writes are updates: once written as DynamoDB expressions (``SET v = :v ADD bal
   :d``, conditions ``attribute_exists(id) AND v <> :never``, rule 11), once as the same
   changes in set/add form with short-form conditions. Same items, same verdict; the
   difference is what reading and evaluating expressions costs. CPU of this process and
   of the workers, and wall, apart.
3. The expressions history checked once more without the lost-writes finding (rule 12,
   ``--property`` every other property): what naming the lost writes costs.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_check import generate  # noqa: E402

ITEM = {"pk": "acct#1", "bal": 250, "owner": "ann", "tags": ["a", "b"], "v": 17,
        "gt_token": "r-17"}
COND = ("bal >= :min AND attribute_exists(#o) AND NOT contains(tags, :t)",
        {"#o": "owner"}, {":min": 30, ":t": "frozen"})
UPD = ("SET bal = bal - :amt, gt_token = :tok ADD v :one", None,
       {":amt": 30, ":tok": "r-18", ":one": 1})


def rate(fn, n: int) -> float:
    """Calls of ``fn`` per CPU second (best of 3 runs of ``n`` calls)."""
    best = float("inf")
    for _ in range(3):
        t = time.process_time()
        for _ in range(n):
            fn()
        best = min(best, time.process_time() - t)
    return n / best if best > 0 else float("inf")


def evaluator(n: int) -> None:
    from gtcheck.kernel import exprparse
    from gtcheck.kernel.expressions import condition, update
    from gtcheck.kernel.itemspec import Request, step

    c = condition(*COND)
    u = update(*UPD)
    key = {"pk": "acct#1"}
    assert c.holds(ITEM) is True and u.apply(ITEM, key)["bal"] == 220

    def cond_uncached():
        exprparse.parse_condition.cache_clear()
        return condition(*COND).holds(ITEM)

    def upd_uncached():
        exprparse.parse_update.cache_clear()
        return update(*UPD).apply(ITEM, key)

    rows = [
        ("condition: evaluate a compiled condition", rate(lambda: c.holds(ITEM), n)),
        ("condition: compile (parse cached) + evaluate", rate(lambda: condition(*COND).holds(ITEM), n)),
        ("condition: parse + compile + evaluate", rate(cond_uncached, n // 4)),
        ("update: apply a compiled update", rate(lambda: u.apply(ITEM, key), n)),
        ("update: compile (parse cached) + apply", rate(lambda: update(*UPD).apply(ITEM, key), n)),
        ("update: parse + compile + apply", rate(upd_uncached, n // 4)),
        ("item spec: a conditional write, short form {\"bal\": 250}",
         rate(lambda: step(ITEM, Request("write", "acct#1", ITEM, {"bal": 250})), n)),
    ]
    rows += moto_rows(n)
    for name, r in rows:
        print(f"  {name:58s} {r:>10,.0f} per CPU s ({1e6 / r:6.1f} us)")


def moto_rows(n: int) -> list[tuple[str, float]]:
    """The peer: moto's own parser and evaluator on the same condition and update (moto
    is the test extra's; its internal API, so this may need care across moto versions)."""
    try:
        import copy

        from moto.dynamodb.comparisons import get_filter_expression
        from moto.dynamodb.models.dynamo_type import DynamoType, Item
        from moto.dynamodb.parsing.executors import UpdateExpressionExecutor
        from moto.dynamodb.parsing.expressions import UpdateExpressionParser
        from moto.dynamodb.parsing.validators import UpdateExpressionValidator
    except ImportError:
        return [("moto: not installed (pip install -e '.[test]')", float("nan"))]
    from gtcheck.kernel import attrvalues as av

    wire = av.item_to_wire(av.item_from_json(ITEM))
    item = Item(DynamoType(wire["pk"]), None, wire)
    cvalues = {k: av.json_to_wire(v) for k, v in COND[2].items()}
    uvalues = {k: av.json_to_wire(v) for k, v in UPD[2].items()}

    class Table:                      # what moto's validator asks of a table
        table_key_attrs = ["pk"]
        attribute_keys = ["pk"]
        attr = [{"AttributeName": "pk", "AttributeType": "S"}]
        hash_key_attr = "pk"
        range_key_attr = None

    op = get_filter_expression(COND[0], COND[1], cvalues)
    assert op.expr(item) is True

    def moto_update():
        it = copy.deepcopy(item)
        ast = UpdateExpressionParser.make(UPD[0])
        v = UpdateExpressionValidator(ast, expression_attribute_names={},
                                      expression_attribute_values=uvalues, item=it,
                                      table=Table()).validate()
        v.normalize()
        UpdateExpressionExecutor(v, it, {}).execute()
        return it

    assert moto_update().attrs["bal"].value == "220"
    return [
        ("moto: evaluate a parsed condition", rate(lambda: op.expr(item), n)),
        ("moto: parse + evaluate a condition",
         rate(lambda: get_filter_expression(COND[0], COND[1], cvalues).expr(item), n // 4)),
        ("moto: parse + validate + apply an update (item copied)", rate(moto_update, n // 10)),
    ]


def check(path: Path, jobs: int, properties: list[str] | None = None) -> dict:
    from gtcheck.checker.check import check_history

    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    ruc0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = check_history(path, jobs=jobs, properties=properties)
    wall = time.perf_counter() - start
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    ruc1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    s = result.summary
    return {
        "wall": wall,
        "self_cpu": (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime),
        "child_cpu": (ruc1.ru_utime - ruc0.ru_utime) + (ruc1.ru_stime - ruc0.ru_stime),
        "ops": s["history"]["counts"]["operations"],
        "verdict": {p: s[p]["valid"] for p in ("integrity", "convergence", "read_after_write",
                                               "staleness")},
        "parse_cpu": s["timing"]["parse_cpu_s"],
        "check_cpu": s["timing"]["check_cpu_s"],
        "mb": path.stat().st_size / 1e6,
        "lost_writes": (s["lost_writes"].get("figures") or {}).get("lost_writes"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--evals", type=int, default=20_000)
    ap.add_argument("--ops", type=int, default=1_000_000)
    ap.add_argument("--keys", type=int, default=10_000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--update-share", type=float, default=0.5)
    ap.add_argument("--skip-check", action="store_true")
    ap.add_argument("--regenerate", action="store_true")
    args = ap.parse_args()
    load = os.getloadavg()[0]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; load average {load:.1f}")
    print("evaluator (one process):")
    evaluator(args.evals)
    if args.skip_check:
        return
    out = Path("benchmarks/out")
    rows = {}
    for name, expr in (("set/add + short form", False), ("DynamoDB expressions", True)):
        tag = "expr" if expr else "plain"
        path = out / f"check-{args.ops // 1000}k-{args.keys}-updates-{tag}.jsonl"
        if args.regenerate or not path.exists():
            t = time.perf_counter()
            generate(path, args.ops, args.keys, update_share=args.update_share,
                     expressions=expr)
            print(f"generated {path} in {time.perf_counter() - t:.1f} s")
        rows[name] = check(path, args.jobs)
    from gtcheck.checker.props import names
    rows["expressions, no lost_writes"] = check(
        path, args.jobs, [n for n in names() if n != "lost_writes"])
    print(f"check, --jobs {args.jobs}:")
    for name, r in rows.items():
        print(f"  {name:22s} {r['ops']:,} ops ({r['mb']:.0f} MB): wall {r['wall']:.1f} s, "
              f"CPU {r['self_cpu']:.1f} s parent + {r['child_cpu']:.1f} s workers; slowest "
              f"worker parse {r['parse_cpu']:.1f} s + check {r['check_cpu']:.1f} s CPU; "
              f"verdict {r['verdict']}; lost writes named {r['lost_writes']}")
    a, b, c = rows.values()
    print(f"  expressions / plain: wall {b['wall'] / a['wall']:.2f}x, workers' CPU "
          f"{b['child_cpu'] / max(a['child_cpu'], 1e-9):.2f}x; load average at the end "
          f"{os.getloadavg()[0]:.1f}")
    print(f"  lost writes: workers' CPU {b['child_cpu'] - c['child_cpu']:+.1f} s "
          f"({b['child_cpu'] / max(c['child_cpu'], 1e-9):.2f}x), wall {b['wall'] / c['wall']:.2f}x "
          f"with the finding than without")


if __name__ == "__main__":
    main()
