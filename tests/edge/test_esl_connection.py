"""The edge's side of one Event Socket connection when FreeSWITCH misbehaves on the wire."""

from __future__ import annotations

import logging

import pytest
from gevent import socket

from edge.esl.session import EslCommandError, EslConnection, EslDisconnected
from shared.logging import CallLogger


def test_a_freeswitch_that_stops_reading_ends_the_connection_instead_of_hanging_the_call() -> None:
    edge_side, switch_side = socket.socketpair()
    edge_side.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    esl = EslConnection(edge_side, CallLogger(logging.getLogger("test"), {"call": "test"}), send_timeout=0.2)
    try:
        with pytest.raises(EslDisconnected, match="stopped reading"):
            esl.send_nowait(b"sendmsg\n" + b"x" * 4_000_000 + b"\n\n")  # the switch never reads it
        assert esl.closed.is_set()
        with pytest.raises(EslDisconnected):
            esl.api("uuid_kill whatever")  # later commands fail at once, nothing waits on a dead peer
    finally:
        switch_side.close()


def test_a_calls_set_up_commands_go_out_together_and_a_refused_one_is_reported() -> None:
    edge_side, switch_side = socket.socketpair()
    esl = EslConnection(edge_side, CallLogger(logging.getLogger("test"), {"call": "test"}))
    try:
        replies = esl.start_call(30, "BACKGROUND_JOB")
        # All three are on the wire before any reply: one round trip for the set-up, not three.
        sent = b""
        while sent.count(b"\n\n") < 3:
            sent += switch_side.recv(4096)
        assert sent == b"myevents\n\nevent plain BACKGROUND_JOB\n\nlinger 30\n\n"
        for text in ("+OK Events Enabled", "-ERR no such event", "+OK will linger"):
            switch_side.sendall(f"Content-Type: command/reply\nReply-Text: {text}\n\n".encode())
        with pytest.raises(EslCommandError, match="no such event"):
            replies()
    finally:
        esl.close()
        switch_side.close()
