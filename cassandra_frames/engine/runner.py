"""Run engine coroutines from synchronous code — also inside Jupyter's already-running event loop.

The engine has its own event loop on a private daemon thread (one per process, recreated after fork).
Synchronous callers block on :func:`run`; asynchronous callers ``await`` :func:`run_async`, which never
blocks their loop. No global loop patching (no nest_asyncio).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["engine_loop", "run", "run_async", "submit"]

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None


def _after_fork_in_child() -> None:
    global _loop, _thread, _lock
    _loop, _thread, _lock = None, None, threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def engine_loop() -> asyncio.AbstractEventLoop:
    """The engine's private event loop, started on first use on a daemon thread."""
    global _loop, _thread
    with _lock:
        if _loop is not None and _thread is not None and _thread.is_alive():
            return _loop
        loop = asyncio.new_event_loop()
        started = threading.Event()

        def _serve() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(started.set)
            loop.run_forever()

        thread = threading.Thread(target=_serve, name="cassandra-frames-engine", daemon=True)
        thread.start()
        started.wait()
        _loop, _thread = loop, thread
        return loop


def submit(coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
    """Start ``coro`` on the engine loop and return at once; ``.result()`` waits for it."""
    loop = engine_loop()
    return asyncio.run_coroutine_threadsafe(coro, loop)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on the engine loop and wait for its result (from any thread, any loop state).

    Raises
    ------
    RuntimeError
        When called from the engine loop's own thread (that would deadlock).
    """
    if threading.current_thread() is _thread:
        coro.close()
        raise RuntimeError("cassandra_frames.engine.runner.run() called on the engine loop itself")
    future = submit(coro)
    try:
        return future.result()
    except BaseException:
        future.cancel()
        raise


async def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Await ``coro`` running on the engine loop, from the caller's own event loop."""
    return await asyncio.wrap_future(submit(coro))
