"""Async plumbing of the 7.0.0 ``aio`` surface, over the synchronous 7.0.0 groups (``batchai_compat.v7``).

Nothing here talks to a backend: every operation runs the synchronous group's method in a worker thread
(:func:`run_sync`), so the argument checks, error mapping, models and backend calls are the ones of
``batchai_compat.v7._client``, not a copy. What users get are genuine azure-core async objects:
``azure.core.polling.AsyncLROPoller`` (with :class:`AsyncBackendPolling`), ``azure.core.async_paging``
``AsyncItemPaged`` / ``AsyncList``, and the same ``azure.core.exceptions`` classes as the sync client.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from typing import Any, Callable, List, Optional, Tuple, TypeVar

from azure.core.async_paging import AsyncItemPaged, AsyncList
from azure.core.polling import AsyncPollingMethod, LROPoller

T = TypeVar("T")


async def run_sync(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``func(*args, **kwargs)`` in the loop's default executor, with the caller's context variables.

    ``asyncio.to_thread`` does the same from Python 3.9; spelled out so the executor is explicit (a
    caller may install a bigger one with ``loop.set_default_executor``)."""
    loop = asyncio.get_running_loop()
    call = functools.partial(contextvars.copy_context().run, func, *args, **kwargs)
    return await loop.run_in_executor(None, call)


async def poller_done(poller: LROPoller) -> None:
    """Wait, without holding a worker thread, until the sync poller's own polling thread has finished.

    azure-core's ``LROPoller`` runs its polling method in a daemon thread and calls the done callbacks
    from it; the callback hands completion to this loop (``call_soon_threadsafe``). The callback may run
    twice (azure-core calls a callback added while the thread finishes immediately and again), hence
    the ``done()`` guard."""
    if poller.done():
        return
    loop = asyncio.get_running_loop()
    finished: asyncio.Future[None] = loop.create_future()

    def settle() -> None:
        if not finished.done():
            finished.set_result(None)

    def on_done(_: Any) -> None:
        try:
            loop.call_soon_threadsafe(settle)
        except RuntimeError:  # the loop was closed while the operation ran: nobody is waiting any more
            pass

    poller.add_done_callback(on_done)
    await finished


class AsyncBackendPolling(AsyncPollingMethod):
    """An azure-core ``AsyncPollingMethod`` driving a synchronous 7.0.0 ``LROPoller`` (already polling).

    ``initial_response`` is that sync poller: it started the operation (errors of the initial request
    were raised by ``await begin_*``, as 7.0.0's ``_create_initial`` did) and polls the backend in its
    own thread. ``run()`` waits for it without blocking the event loop; ``status()``, ``finished()``,
    ``resource()`` and the continuation token are the sync poller's, so a token from either client
    resumes in the other."""

    def __init__(self) -> None:
        self._poller: Optional[LROPoller] = None
        self._resource: Any = None
        self._done = False

    def initialize(self, client: Any, initial_response: Any, deserialization_callback: Callable[[Any], Any]) -> None:
        self._poller = initial_response

    def _sync(self) -> LROPoller:
        if self._poller is None:
            raise RuntimeError("AsyncBackendPolling used before initialize()")
        return self._poller

    async def run(self) -> None:
        poller = self._sync()
        await poller_done(poller)
        self._resource = poller.result()  # done: returns at once, or raises the operation's error
        self._done = True

    def status(self) -> str:
        return str(self._sync().status())

    def finished(self) -> bool:
        return self._done or self._sync().done()

    def resource(self) -> Any:
        if not self._done:
            self._resource = self._sync().result()  # only reached after run(): does not block
            self._done = True
        return self._resource

    def get_continuation_token(self) -> str:
        return self._sync().continuation_token()


def async_item_paged(sync_paged: Any) -> AsyncItemPaged:
    """An ``AsyncItemPaged`` over a sync 7.0.0 ``ItemPaged``: each page is fetched in a worker thread by
    the sync pager (``by_page(continuation_token)``), so checks, errors (raised at the first page, as
    7.0.0's were), ``cls`` callbacks and ``next_link`` continuation tokens are the sync client's."""

    def fetch(token: Optional[str]) -> Tuple[Optional[str], List[Any]]:
        pages = sync_paged.by_page(continuation_token=token)
        page = next(pages, None)
        items = [] if page is None else list(page)
        return pages.continuation_token, items

    async def get_next(token: Optional[str] = None) -> Tuple[Optional[str], List[Any]]:
        return await run_sync(fetch, token)

    async def extract_data(fetched: Tuple[Optional[str], List[Any]]) -> Tuple[Optional[str], AsyncList[Any]]:
        next_token, items = fetched
        return next_token or None, AsyncList(items)

    return AsyncItemPaged(get_next, extract_data)
