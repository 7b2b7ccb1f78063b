"""The FreeSWITCH dialplan example sends a call to the edge the way docs/contract.md says the edge expects."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "deploy" / "freeswitch" / "dialplan" / "voice_secretary.xml"


def test_dialplan_sets_the_variables_the_edge_reads_then_hands_the_call_to_the_edge():
    extension = ET.parse(EXAMPLE).getroot().find("extension")
    actions = [(a.get("application"), a.get("data")) for a in extension.iter("action")]
    sets = [data.split("=", 1)[0] for app, data in actions if app == "set"]
    assert {"domain_uuid", "voice_secretary_uuid"} <= set(sets)
    socket_at = [i for i, (app, _) in enumerate(actions) if app == "socket"]
    assert socket_at == [len(actions) - 1], "socket must be the last action: it parks the channel"
    assert actions[-1][1] == "127.0.0.1:8022 async full"  # EDGE_HOST, EDGE_ESL_PORT defaults
