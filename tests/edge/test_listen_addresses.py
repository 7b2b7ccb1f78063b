"""Where the edge listens: nothing on a non-loopback address unless EDGE_LISTEN says so.

The sockets are read from the kernel (``/proc/net/{tcp,udp}{,6}`` matched to the edge process's file
descriptors), during a call, so a call's unicast UDP port is among them.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

import pytest

from shared.settings import Settings
from tests.polling import wait_until

_TCP_LISTEN = "0A"


def _address(hex_address: str) -> str:
    """``/proc/net``'s hex ``address:port`` → the address as text (the port is dropped)."""
    raw = bytes.fromhex(hex_address.split(":")[0])
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
    return socket.inet_ntop(socket.AF_INET6, words)


def listening_addresses(pid: int) -> dict[str, set[str]]:
    """``{"tcp": {addresses}, "udp": {addresses}}`` of the sockets process ``pid`` listens on."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found: dict[str, set[str]] = {"tcp": set(), "udp": set()}
    for kind in ("tcp", "udp"):
        for table in (f"/proc/net/{kind}", f"/proc/net/{kind}6"):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if inode in inodes and (kind == "udp" or state == _TCP_LISTEN):
                    found[kind].add(_address(local))
    return found


def _on_a_call(edge, fake_fs, realtime_secretary) -> dict[str, set[str]]:
    domain, secretary = realtime_secretary
    call = fake_fs.place_call({"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)})
    assert call.wait("answered")
    if edge.transport == "unicast":
        assert wait_until(lambda: call.unicast is not None)
        assert wait_until(lambda: listening_addresses(edge.proc.pid)["udp"])
    return listening_addresses(edge.proc.pid)


@pytest.mark.parametrize("edge", ["unicast", "audio_stream"], indirect=True)
def test_by_default_the_edge_listens_on_loopback_only(edge, fake_fs, realtime, realtime_secretary) -> None:
    found = _on_a_call(edge, fake_fs, realtime_secretary)
    assert len(found["tcp"]) >= 1  # ESL and metrics (and the audio WebSocket)
    if edge.transport == "unicast":
        assert found["udp"], "the call's unicast port"
    for address in found["tcp"] | found["udp"]:
        assert ipaddress.ip_address(address).is_loopback, found


@pytest.mark.edge_env(EDGE_AUDIO_TRANSPORT="unicast", EDGE_LISTEN="0.0.0.0", EDGE_METRICS_LISTEN="127.0.0.1")
def test_a_configured_listen_address_is_used_by_every_call_socket(edge, fake_fs, realtime,
                                                                realtime_secretary) -> None:
    """EDGE_LISTEN reaches ESL and the call's UDP port; EDGE_METRICS_LISTEN keeps metrics on loopback."""
    found = _on_a_call(edge, fake_fs, realtime_secretary)
    assert found["udp"] == {"0.0.0.0"}
    assert found["tcp"] == {"0.0.0.0", "127.0.0.1"}
    assert edge.health()["calls_active"] >= 0  # metrics answer on loopback


def test_the_shipped_config_listens_on_loopback() -> None:
    """deploy/voice-ai.conf.example, as the installer copies it, opens nothing to the network."""
    example = Path(__file__).resolve().parents[2] / "deploy" / "voice-ai.conf.example"
    settings = Settings.load(environ={}, config_file=example)
    assert ipaddress.ip_address(settings.edge_listen_address).is_loopback
    assert ipaddress.ip_address(settings.edge_metrics_listen or settings.edge_listen_address).is_loopback
