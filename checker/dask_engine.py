"""The Dask engine: the checker's stages (``checker.partitioned``) as tasks on a
``dask.distributed`` cluster.

    gtcheck check run.jsonl --engine dask                       # a LocalCluster, one worker per CPU
    gtcheck check day/ --engine dask --scheduler tcp://10.0.0.5:8786

How the history travels (docs/check.md "Engines"): the workers read the files themselves
(every worker must see them at the same path), a plain file in byte ranges of whole lines,
a gzip file whole by one worker, decompressing it streaming (it cannot be entered
anywhere but at its start): this process reads only each part's header. Each block's
lines go to their process's bucket; each bucket's operations to their key's shard: two
all-to-all exchanges done by Dask between tasks (the futures of one stage are the
arguments of the next), so no process holds the whole history and the client receives
only small facts and the shards' results. The judging is the local engine's
(``checker.shard.check_groups``) and the merge too (``checker.check``): one code path.

Failures: a worker that dies is replaced by the scheduler, which runs its tasks again on
another worker (they are pure, so the answer is the same). When the cluster cannot
finish (a task's workers died ``distributed.scheduler.allowed-failures`` + 1 times, the
scheduler went away), the check stops with :class:`EngineFailure`: exit 255 and no
verdict, never a partial one. A scheduler that cannot be reached at all is a bad
``--scheduler`` argument (254).
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any, Iterator

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


class Tasks:
    """The executor ``checker.partitioned.run`` drives: each stage a Dask future."""

    def __init__(self, client: Any):
        self.client = client
        self.addresses = sorted(client.scheduler_info().get("workers", {}))
        self.workers = max(1, len(self.addresses))

    def submit(self, fn: Any, *args: Any) -> Any:
        if fn.__name__.startswith(("block_", "bucket_", "shard_")):   # a piece of a result
            return self.client.submit(fn, *args, pure=True)
        return self.client.submit(fn, *args, pure=False)

    def submit_on(self, turn: int, fn: Any, *args: Any) -> Any:
        """A bucket's or a shard's task, placed on the workers in turn (it may still run
        elsewhere: a worker that dies does not strand it). Each of these tasks needs
        about as much data from every worker, so where its data lies tells nothing;
        left to choose, the scheduler put them where most of their bytes were, and that
        was one worker: at 1M operations all 8 shards were judged by one of two workers
        while the other sat idle (bench_dask --task-stream)."""
        workers = self.addresses
        where = [workers[turn % len(workers)]] if workers else None
        return self.client.submit(fn, *args, pure=False, workers=where,
                                  allow_other_workers=True)

    def gather(self, futures: list) -> list:
        from distributed import KilledWorker
        from distributed.client import CancelledError

        try:
            return self.client.gather(futures)
        except CancelledError as exc:     # the scheduler dropped the tasks (it restarted)
            raise EngineFailure(f"the Dask cluster dropped the check's tasks: {exc}",
                                hint="no verdict was computed; rerun once the scheduler "
                                "and its workers are up") from None
        except KilledWorker as exc:
            raise EngineFailure(f"the Dask cluster lost the workers of a task too often: {exc}",
                                hint="no verdict was computed; check the workers' memory "
                                "limits and logs, then rerun") from None
        except (OSError, TimeoutError) as exc:
            raise EngineFailure(f"the Dask cluster failed during the check: "
                                f"{type(exc).__name__}: {exc}",
                                hint="no verdict was computed; rerun once the scheduler "
                                "and its workers are up") from None

    def cancel(self, futures: list) -> None:
        """Stop tasks whose results are no longer wanted (bad input was found)."""
        self.client.cancel(futures)
