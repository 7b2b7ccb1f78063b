"""The OpenAI SDK client built from a provider row, and the mapping of its errors to ServiceError."""

from __future__ import annotations

import ssl
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
WEBSOCKET_OPEN_TIMEOUT = 5.0
WEBSOCKET_CLOSE_TIMEOUT = 0.2
_clients: OrderedDict[tuple[str, str | None, float, int], Any] = OrderedDict()
_builds: dict[tuple[str, str | None, float, int], threading.Lock] = {}
_clients_lock = threading.Lock()
_tls: ssl.SSLContext | None = None


def _native_thread_id() -> int:
    """The OS thread's id (under gevent's patching ``threading.get_ident`` names the greenlet, which
    would give every call its own client: ~0.85 MB per call, measured with bench_edge)."""
    from gevent import monkey

    return monkey.get_original("_thread", "get_ident")()


def make_client(config: ProviderConfig) -> Any:
    """``openai.OpenAI`` with the row's key and ``base_url``; no SDK retries (the call cannot wait).

    Clients are shared by every call with the same key, ``base_url`` and timeout, per OS thread: building
    one costs ~25 ms of TLS setup on the hub, which would delay each call's greeting, and a shared client
    keeps its connections to the vendor warm between calls. In the edge every vendor call runs on the hub's
    thread (cooperative sockets: :func:`edge.engines.turns.blocking`), so that is one client per key. Per
    thread all the same, because without gevent's patching (a test driving an engine directly) the calls go
    to gevent's threadpool, and a pooled socket belongs to the hub of the thread that opened it: reusing it
    from another thread fails with "operation on destroyed loop".

    Built once per key even when a burst of calls asks for it together: the first caller builds under the
    key's own lock and the others wait for that one client (a burst used to build ~27 of them).
    """
    if not config.api_key:
        raise ServiceError(f"openai-{config.provider_type}", ErrorKind.AUTH, "no api_key configured")
    timeout = float(config.config.get("timeout", DEFAULT_TIMEOUT))
    key = (config.api_key, config.base_url, timeout, _native_thread_id())
    with _clients_lock:
        client = _clients.get(key)
        if client is not None:
            _clients.move_to_end(key)
            return client
        build = _builds.setdefault(key, threading.Lock())
    with build:
        with _clients_lock:
            client = _clients.get(key)
        if client is None:
            client = _build(config, timeout)
            with _clients_lock:
                _clients[key] = client
                while len(_clients) > MAX_CLIENTS:
                    _clients.popitem(last=False)  # dropped, not closed: a call may still be using it
    with _clients_lock:
        _builds.pop(key, None)
    return client


def _off_the_hub(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in gevent's threadpool (at once when already in one of its threads): a TLS
    context loads the CA certificates (~25 ms, with the GIL released), which on the hub would hold every
    call's audio and the other calls' set-up during a burst. (Not the SDK client itself: its first build
    imports trio, which runs ``ldconfig`` in a subprocess, and gevent watches children from the hub's
    thread only.)"""
    import gevent

    return gevent.get_hub().threadpool.apply(function, args)


def _build(config: ProviderConfig, timeout: float) -> Any:
    """The SDK client, its HTTP client on the process's one TLS context: httpx would load the CA
    certificates for each client it builds, on the hub (41 ms of CPU per client on this host; 2 ms with
    the shared context)."""
    import openai

    http_client = openai.DefaultHttpxClient(verify=_tls_context(),
                                            event_hooks=provider_request_hooks(config.base_url))
    return openai.OpenAI(api_key=config.api_key, base_url=config.base_url, max_retries=0, timeout=timeout,
                         http_client=http_client)


def warm_up() -> None:
    """Do before the first call what its client and Realtime connection would otherwise do on the hub
    (~0.2 s on this host, every call's audio waiting meanwhile): import the SDK's lazily loaded client
    modules, its Realtime resource and the websockets client, build the process's TLS context, and learn
    the platform its request headers name. Builds a throwaway client (no request is made).

    On the hub's thread (the edge's start, before its ESL port opens) or a process's main thread, not in
    gevent's threadpool: two of these steps run a subprocess (trio's import runs ``ldconfig -p``, and
    :func:`platform.uname` runs ``uname -p``), and gevent watches children from the hub's thread only. In
    the threadpool the import failed ("child watchers are only available on the default loop"), the
    failure was swallowed, and the first call imported ~100 modules on the hub."""
    import platform

    import openai
    import openai.resources.realtime.realtime
    import websockets.sync.client  # noqa: F401

    _keep_tls(ssl.create_default_context())
    client = openai.OpenAI(api_key="warm-up", max_retries=0, http_client=openai.DefaultHttpxClient(verify=_tls_context()))
    client.realtime  # noqa: B018 - the lazy properties load modules
    platform.uname().processor  # noqa: B018 - cached by the platform module for the process's life


def websocket_options(config: ProviderConfig) -> dict[str, Any]:
    """The options of a Realtime WebSocket: no permessage-deflate (base64 audio barely compresses, and
    deflating 50 appends a second and inflating every delta was a fifth of the edge's CPU per call), short
    open and close timeouts, and for ``wss`` one TLS context for every call of the process (the
    ``websockets`` client would otherwise build one per connection: ~35 ms of CPU on this host)."""
    options: dict[str, Any] = {"open_timeout": WEBSOCKET_OPEN_TIMEOUT, "close_timeout": WEBSOCKET_CLOSE_TIMEOUT,
                               "compression": None}
    if (config.base_url or "https://").lower().startswith("https"):
        options["ssl"] = _tls_context()
    return options


def _tls_context() -> ssl.SSLContext:
    """The process's TLS context for vendors (the system's CA certificates), built once, off the hub
    (:func:`warm_up` builds it before the first call)."""
    if _tls is None:
        _keep_tls(_off_the_hub(ssl.create_default_context))
    assert _tls is not None
    return _tls


def _keep_tls(context: ssl.SSLContext) -> None:
    global _tls
    with _clients_lock:
        if _tls is None:
            _tls = context


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
    except Exception as exc:  # noqa: BLE001 - every SDK failure becomes the ServiceError callers handle
        raise translate(provider, exc) from None
