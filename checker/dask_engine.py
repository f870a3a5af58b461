"""The Dask engine: the local engine's parts, run as tasks on a ``dask.distributed`` cluster.

    gtcheck check run.jsonl --engine dask                       # a LocalCluster, one worker per CPU
    gtcheck check run.jsonl --engine dask --scheduler tcp://10.0.0.5:8786

What it is today (docs/check.md "Engines"): the same pure task as the local engine,
:func:`checker.shard.check_part` (read the history, keep the keys of part ``i`` of ``N``,
judge them, spilling to temporary files past the memory budget), submitted once per part
as a Dask future, and the same merge and summary (``checker.check``). So both engines run
one judging code path and give the same answers; Dask adds workers on other machines,
its scheduler's retries and its dashboard. What it is not yet: every task reads the whole
history (from the same path on every worker), so the history is not split into byte
ranges and no events are shuffled between workers; memory per worker is bounded by the
spill budget, not by the history's size, but the reading CPU is paid once per part.

Failures: a worker that dies is replaced by the scheduler, which runs its task again on
another worker (the task is pure, so the answer is the same). When the cluster cannot
finish (a task's workers died ``distributed.scheduler.allowed-failures`` + 1 times, the
scheduler went away), the check stops with :class:`EngineFailure`: exit 255 and no
verdict, never a partial one. A scheduler that cannot be reached at all is a bad
``--scheduler`` argument (254).
"""

from __future__ import annotations

import contextlib
import logging
import os
from typing import Any, Iterator

from gtcheck.checker.shard import CheckOptions, PartResult, check_part
from gtcheck.kernel.errors import EXIT_INTERNAL, UserError

INSTALL = "pip install 'gtcheck[dask]'"
CONNECT_TIMEOUT_S = 30


class EngineFailure(UserError):
    """The cluster could not finish the check (not bad input, not a verdict): exit 255."""

    exit_code = EXIT_INTERNAL


def require() -> None:
    """Refuse ``--engine dask`` when dask.distributed is not installed (254, how to)."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise UserError("--engine dask needs dask.distributed, which is not installed",
                        hint=f"{INSTALL}, or use the local engine (--engine local)") from None


@contextlib.contextmanager
def connect(scheduler: str | None, workers: int) -> Iterator[Any]:
    """A ``distributed.Client``: to ``scheduler`` when given, else to a LocalCluster of
    ``workers`` single-threaded worker processes on loopback (closed on exit)."""
    require()
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as exc:
            raise UserError(f"cannot connect to the Dask scheduler at {scheduler}: {exc}",
                            where="--scheduler", hint="give the address `dask scheduler` "
                            "printed, e.g. tcp://127.0.0.1:8786") from None
        with client:
            yield client
        return
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address="127.0.0.1:0",
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client


def worker_count(client: Any) -> int:
    """The workers the scheduler knows now (at least 1)."""
    return max(1, len(client.scheduler_info().get("workers", {})))


def run_parts(client: Any, path: str, nparts: int, options: CheckOptions) -> list[PartResult]:
    """:func:`check_part` for every part, one future each; results in part order."""
    from distributed import KilledWorker

    path = os.path.abspath(path)    # workers resolve it on their own machine
    futures = [client.submit(check_part, path, i, nparts, options, pure=False)
               for i in range(nparts)]
    try:
        return client.gather(futures)
    except KilledWorker as exc:
        raise EngineFailure(f"the Dask cluster lost the workers of a part too often: {exc}",
                            hint="no verdict was computed; check the workers' memory "
                            "limits and logs, then rerun") from None
    except (OSError, TimeoutError) as exc:
        raise EngineFailure(f"the Dask cluster failed during the check: "
                            f"{type(exc).__name__}: {exc}",
                            hint="no verdict was computed; rerun once the scheduler "
                            "and its workers are up") from None
    finally:
        client.cancel(futures)
