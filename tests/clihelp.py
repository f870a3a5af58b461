"""Run the ``gtcheck`` command in-process, as a user would, and collect what it printed."""

from __future__ import annotations

import pytest

from gtcheck.cli import main


def run_cli(args, capsys) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``gtcheck ARGS``."""
    with pytest.raises(SystemExit) as info:
        main([str(a) for a in args])
    out = capsys.readouterr()
    return info.value.code, out.out, out.err
