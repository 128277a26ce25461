"""A bounded pool for CPU-heavy work (FHIR validation, large SOAP parsing, MSSanté content checks),
so one big request does not hold the event loop — and every other caller of the process — for its
whole duration.

Threads, not processes: the work is handed over without pickling, and lxml/expat release the GIL
while parsing; pure-Python work still shares the GIL, but the event loop gets it back every
switch interval (5 ms) instead of after the whole job. ``cpu_workers`` bounds how many run at once;
the rest wait their turn in the executor's queue.

**Small inputs run inline** (:meth:`CpuPool.run` with ``size`` at most :data:`INLINE_BYTES`): a
job of a millisecond or two holds the loop no longer than the thread hand-off would, and handing it
to a thread costs more than it saves. While pure-Python work runs in a thread, each system call of
the event loop (every socket write) releases the GIL and then waits up to the switch interval to
get it back: measured with ``bench/dmp_ingest.py`` on PostgreSQL, ITI-65 validation of a CR-BIO in
the pool took 346 → 232 submissions/s (2 workers), and ``bench/mss_ingest.py`` showed the same for
the MSSanté checks (py-spy: the loop waiting in ``send`` longer than the checks took).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

#: inputs up to this size are processed on the event loop (a few ms at most), larger ones in the pool
INLINE_BYTES = 256 * 1024


class CpuPool:
    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._executor: ThreadPoolExecutor | None = None

    async def run(self, fn: Callable[..., T], *args: Any, size: int | None = None, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` on a pool thread; its result (or exception) here. ``size``: the
        bytes of input ``fn`` works on; at most :data:`INLINE_BYTES`, it runs right here instead."""
        if size is not None and size <= INLINE_BYTES:
            return fn(*args, **kwargs)
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="mes-sandbox-cpu")
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
