"""Which URLs the edge and the workers may send to: no SSRF into the PBX's own network.

One policy for two uses, the same as the FusionPBX app's ``voice_address_policy.php`` (both are run
against ``shared/policies/address_policy_cases.json``):

* OmniPlay webhooks (``WEBHOOK_ALLOW_PRIVATE`` lifts the address rule);
* a provider's ``base_url``, which receives the tenant's API key (``PROVIDER_ALLOW_PRIVATE``, the
  counterpart of the app's ``provider_allow_private`` default setting). :func:`checked_base_url` is
  called whenever a client reads the URL, so a name that has since moved to an internal address is
  refused on the next call, not only when the page saved it.

A URL is refused when its scheme is not http(s) (ws(s) too for a base URL), when it carries
credentials, or when its host — an address in any spelling ``inet_aton`` accepts (``2130706433``,
``0x7f.1``, ``0177.0.0.1``), or every address its name resolves to — is loopback, link-local (cloud
metadata at 169.254.169.254 included), private, shared (CGNAT), multicast, reserved or unspecified.
An IPv4 address carried inside IPv6 (IPv4-mapped ``::ffff:0:0/96``, NAT64 ``64:ff9b::/96``, 6to4
``2002::/16``) is judged as that IPv4 address. Redirects are never followed by the webhook sender; a
redirect's target would be judged as a URL of its own.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from shared.settings import get_settings

Resolver = Callable[[str, int], list[str]]

WEB_SCHEMES = frozenset({"http", "https"})
BASE_URL_SCHEMES = frozenset({"http", "https", "ws", "wss"})


class RefusedURL(ValueError):
    """The URL may not be called; the message says why (stored on the conversation, logged for a provider)."""


def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OSError(f"cannot resolve {host}: {exc.strerror}") from exc
    return sorted({str(info[4][0]) for info in infos})


def _inet_aton(host: str) -> str | None:
    """``host`` as a dotted IPv4 address when it is one in a spelling ``inet_aton`` accepts, else None."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers = []
    for part in parts:
        try:
            if part[:2].lower() == "0x":
                numbers.append(int(part[2:] or "0", 16))
            elif len(part) > 1 and part.startswith("0"):
                numbers.append(int(part, 8))
            else:
                numbers.append(int(part, 10) if part.isdigit() else -1)
        except ValueError:
            return None
    if any(n < 0 for n in numbers):
        return None
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return None
    value = 0
    for n in head:
        value = value * 256 + n
    value = value * 256 ** (4 - len(head)) + last
    return str(ipaddress.IPv4Address(value))


def literal_address(host: str) -> str | None:
    """The address ``host`` names literally (IPv6 in brackets or not, IPv4 in any inet_aton spelling)."""
    host = host.strip("[]")
    try:
        return str(ipaddress.ip_address(host.split("%", 1)[0]))
    except ValueError:
        return _inet_aton(host)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in ipaddress.IPv6Network("64:ff9b::/96"):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    return None


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return is_public_address(str(embedded))
    return not (
        ip.is_loopback or ip.is_link_local or ip.is_private or ip.is_multicast or ip.is_reserved
        or ip.is_unspecified or not ip.is_global
    )


def check_url(
    url: str, allow_private: bool, resolver: Resolver = resolve_host, schemes: frozenset[str] = WEB_SCHEMES
) -> list[str]:
    """The addresses ``url`` resolves to, or :class:`RefusedURL`; :class:`OSError` when DNS fails."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme in {"https", "wss"} else 80)
    except ValueError as exc:
        raise RefusedURL(f"not a valid URL: {exc}") from exc
    if parts.scheme not in schemes:
        raise RefusedURL(f"only {', '.join(sorted(schemes))} URLs are allowed, not {parts.scheme or 'no scheme'!r}")
    if not parts.hostname:
        raise RefusedURL("the URL has no host")
    if parts.username or parts.password:
        raise RefusedURL("credentials in the URL are not allowed")
    literal = literal_address(parts.hostname)
    addresses = [literal] if literal else resolver(parts.hostname, port)
    if not addresses:
        raise OSError(f"{parts.hostname} resolves to no address")
    if not allow_private:
        blocked = [a for a in addresses if not is_public_address(a)]
        if blocked:
            raise RefusedURL(
                f"{parts.hostname} resolves to a loopback, link-local or private address ({blocked[0]}); "
                "set WEBHOOK_ALLOW_PRIVATE=true (webhooks) or PROVIDER_ALLOW_PRIVATE=true (provider base "
                "URLs) to allow the local network"
            )
    return addresses


def provider_allow_private() -> bool:
    """``PROVIDER_ALLOW_PRIVATE`` (environment or config file): base URLs on the local network allowed."""
    return get_settings().provider_allow_private


def checked_base_url(url: str | None, resolver: Resolver | None = None) -> str | None:
    """``url`` when a provider client may send its API key there (None: the vendor's default).

    Resolved at every call; a name that does not resolve is left to the client to fail on (it could not
    connect either), a refused one raises :class:`RefusedURL`.
    """
    if not url:
        return None
    try:
        check_url(url, provider_allow_private(), resolver or resolve_host, BASE_URL_SCHEMES)
    except OSError:
        pass
    return url


def provider_request_hooks(base_url: str | None) -> dict[str, list[Callable[[Any], None]]]:
    """httpx ``event_hooks`` for a provider client whose ``base_url`` was already judged: every request
    to another host — a redirect's next hop (the openai SDK follows redirects) — is judged by the
    base-URL policy before it is sent, and refused with :class:`RefusedURL`. Requests to the base URL's
    own host pass without a second DNS lookup.
    """
    own_host = urlsplit(base_url).hostname if base_url else None

    def check(request: Any) -> None:
        if request.url.host != own_host:
            checked_base_url(str(request.url))

    return {"request": [check]}
