"""The OpenAI SDK client built from a provider row, and the mapping of its errors to ServiceError."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from edge.services.base import ErrorKind, ServiceError, kind_for_status
from shared.address_policy import provider_request_hooks
from shared.providers import ProviderConfig

T = TypeVar("T")
DEFAULT_TIMEOUT = 15.0


MAX_CLIENTS = 64
_clients: OrderedDict[tuple[str, str | None, float, int], Any] = OrderedDict()
_clients_lock = threading.Lock()


def _native_thread_id() -> int:
    """The OS thread's id (under gevent's patching ``threading.get_ident`` names the greenlet, which
    would give every call its own client: ~0.85 MB per call, measured with bench_edge)."""
    from gevent import monkey

    return monkey.get_original("_thread", "get_ident")()


def make_client(config: ProviderConfig) -> Any:
    """``openai.OpenAI`` with the row's key and ``base_url``; no SDK retries (the call cannot wait).

    Clients are shared by every call with the same key, ``base_url`` and timeout, per thread: building
    one costs ~25 ms of TLS setup on the hub, which would delay each call's greeting, and a shared client
    keeps its connections to the vendor warm between calls. Per thread, because under gevent a pooled
    socket belongs to the hub of the thread that opened it (vendor calls run in gevent's threadpool);
    reusing it from another thread fails with "operation on destroyed loop".
    """
    import openai

    if not config.api_key:
        raise ServiceError(f"openai-{config.provider_type}", ErrorKind.AUTH, "no api_key configured")
    timeout = float(config.config.get("timeout", DEFAULT_TIMEOUT))
    key = (config.api_key, config.base_url, timeout, _native_thread_id())
    with _clients_lock:
        client = _clients.get(key)
        if client is not None:
            _clients.move_to_end(key)
            return client
    client = openai.OpenAI(api_key=config.api_key, base_url=config.base_url, max_retries=0, timeout=timeout,
                           http_client=openai.DefaultHttpxClient(event_hooks=provider_request_hooks(config.base_url)))
    with _clients_lock:
        _clients[key] = client
        while len(_clients) > MAX_CLIENTS:
            _clients.popitem(last=False)  # dropped, not closed: a call may still be using it
    return client


def translate(provider: str, exc: Exception) -> ServiceError:
    """A :class:`ServiceError` for an SDK exception (message without key or payload)."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return ServiceError(provider, ErrorKind.TIMEOUT)
    if isinstance(exc, openai.APIStatusError):
        return ServiceError(provider, kind_for_status(exc.status_code), status=exc.status_code)
    if isinstance(exc, openai.APIConnectionError):
        return ServiceError(provider, ErrorKind.NETWORK)
    return ServiceError(provider, ErrorKind.BAD_RESPONSE, type(exc).__name__)


def guarded(provider: str, function: Callable[[], T]) -> T:
    """Run an SDK call, translating its errors."""
    try:
        return function()
    except ServiceError:
        raise
    except Exception as exc:
        raise translate(provider, exc) from None
