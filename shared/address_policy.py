"""Which webhook URLs the workers may call: no SSRF into the PBX's own network.

A URL is refused when its scheme is not http(s), or when any address its host resolves to is loopback,
link-local (cloud metadata at 169.254.169.254 included), private, shared (CGNAT), multicast, reserved or
unspecified — unless the operator sets ``WEBHOOK_ALLOW_PRIVATE`` (an OmniPlay server on the LAN).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

Resolver = Callable[[str, int], list[str]]


class RefusedURL(ValueError):
    """The webhook URL may not be called; the message says why (stored on the conversation)."""


def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OSError(f"cannot resolve {host}: {exc.strerror}") from exc
    return sorted({str(info[4][0]) for info in infos})


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_loopback or ip.is_link_local or ip.is_private or ip.is_multicast or ip.is_reserved
        or ip.is_unspecified or not ip.is_global
    )


def check_url(url: str, allow_private: bool, resolver: Resolver = resolve_host) -> list[str]:
    """The addresses ``url`` resolves to, or :class:`RefusedURL`; :class:`OSError` when DNS fails."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise RefusedURL(f"not a valid URL: {exc}") from exc
    if parts.scheme not in {"http", "https"}:
        raise RefusedURL(f"only http and https webhook URLs are allowed, not {parts.scheme or 'no scheme'!r}")
    if not parts.hostname:
        raise RefusedURL("the webhook URL has no host")
    if parts.username or parts.password:
        raise RefusedURL("credentials in the webhook URL are not allowed; the request is signed instead")
    addresses = resolver(parts.hostname, port)
    if not addresses:
        raise OSError(f"{parts.hostname} resolves to no address")
    if not allow_private:
        blocked = [a for a in addresses if not is_public_address(a)]
        if blocked:
            raise RefusedURL(
                f"{parts.hostname} resolves to a loopback, link-local or private address ({blocked[0]}); "
                "set WEBHOOK_ALLOW_PRIVATE=true to allow webhooks into the local network"
            )
    return addresses
