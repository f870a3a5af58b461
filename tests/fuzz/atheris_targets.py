"""Coverage-guided fuzzing (atheris, libFuzzer) of gtcheck's readers: a slow target, run by
hand, not by the suite.

    pip install 'gtcheck[fuzz]'            # atheris (a wheel for CPython 3.11 on Linux x86-64)
    python -m tests.fuzz.atheris_targets json -atheris_runs=1000000
    python -m tests.fuzz.atheris_targets edn -max_total_time=600 corpus/edn
    python -m tests.fuzz.atheris_targets scenario -max_total_time=600
    python -m tests.fuzz.atheris_targets expression -max_total_time=600

Targets and what counts as a finding (libFuzzer stops at the first and writes the input):

* ``json``: ``kernel.exactjson.parse_line`` on one line: anything but a value or
  ``JSONProblem`` (a ``ValueError``); a value must read back the same through
  ``canon``/``loads_exact``;
* ``edn``: ``kernel.edn.loads_all``: anything but values or ``EdnError``; every value
  ``dumps`` can write reads back equal;
* ``scenario``: ``model.scenario.load_scenario`` on the bytes as a file: anything but a
  ``Scenario`` or ``UserError``;
* ``expression``: ``kernel.exprparse.parse_condition``/``parse_update``: anything but a
  tree or ``ExprSyntaxError``.

Inputs are the fuzzer's bytes (decoded as UTF-8 with replacement where a target takes
text). Seeds: the fuzz harness's seeds (tests/fuzz/seeds.py) are a good corpus.
"""

from __future__ import annotations

import os
import sys
import tempfile


def _json(data: bytes) -> None:
    from gtcheck.kernel.exactjson import JSONProblem, canon, loads_exact, parse_line

    line = data.split(b"\n", 1)[0]
    if not line.strip():
        return
    try:
        value = parse_line(line)
    except JSONProblem:
        return
    assert canon(value) == canon(loads_exact(line)), line


def _edn(data: bytes) -> None:
    from gtcheck.kernel import edn

    try:
        values = edn.loads_all(data)
    except edn.EdnError:
        return
    for v in values:
        try:
            text = edn.dumps(v)
        except ValueError:         # a value the writer refuses (a '::' keyword, documented limits)
            continue
        assert edn.loads(text) == v, text


_SCENARIO_DIR = tempfile.mkdtemp(prefix="gtcheck-atheris-")
_SCENARIO = os.path.join(_SCENARIO_DIR, "s.toml")


def _scenario(data: bytes) -> None:
    from gtcheck.kernel.errors import UserError
    from gtcheck.model.scenario import load_scenario

    with open(_SCENARIO, "wb") as fh:
        fh.write(data)
    try:
        load_scenario(_SCENARIO)
    except UserError:
        return


def _expression(data: bytes) -> None:
    from gtcheck.kernel.exprparse import ExprSyntaxError, parse_condition, parse_update

    text = data.decode("utf-8", "replace")
    for parse in (parse_condition, parse_update):
        try:
            parse(text)
        except ExprSyntaxError:
            pass


TARGETS = {"json": _json, "edn": _edn, "scenario": _scenario, "expression": _expression}


def main(argv: list[str]) -> None:
    import atheris

    if len(argv) < 2 or argv[1] not in TARGETS:
        sys.exit(f"usage: python -m tests.fuzz.atheris_targets {{{','.join(TARGETS)}}} [libFuzzer options]")
    target = TARGETS[argv[1]]
    with atheris.instrument_imports():
        import gtcheck.kernel.edn  # noqa: F401
        import gtcheck.kernel.exactjson  # noqa: F401
        import gtcheck.kernel.exprparse  # noqa: F401
        import gtcheck.model.scenario  # noqa: F401
    atheris.Setup([argv[0]] + argv[2:], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
