"""A bounded pool for CPU-heavy work (FHIR validation, large SOAP parsing), so one big request does
not hold the event loop — and every other caller of the process — for its whole duration.

Threads, not processes: the work is handed over without pickling, and lxml/expat release the GIL
while parsing; pure-Python work still shares the GIL, but the event loop gets it back every
switch interval (5 ms) instead of after the whole job. ``cpu_workers`` bounds how many run at once;
the rest wait their turn in the executor's queue.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class CpuPool:
    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._executor: ThreadPoolExecutor | None = None

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` on a pool thread; its result (or exception) here."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="mes-sandbox-cpu")
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
