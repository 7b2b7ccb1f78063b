"""A burst of calls for one provider builds its vendor client once, and every client shares the process's
TLS context.

Run in a child process patched by gevent as the edge is (``threading.Lock`` is then gevent's), with a
client build that yields to the hub halfway, as a build that touches the network or the disk would:
every call of the burst must get the same client, built once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CHILD = r"""
from gevent import monkey
monkey.patch_all()
import json, gevent
from edge.services.openai import client as module
from shared.providers import ProviderConfig

builds = []
def slow_build(config, timeout):
    builds.append(config.api_key)
    gevent.idle()  # the hub runs the rest of the burst meanwhile
    return object()
module._build = slow_build

config = ProviderConfig("llm", "openai_realtime", {"api_key": "sk-burst", "base_url": "https://127.0.0.1:9/v1"})
other = ProviderConfig("llm", "openai_realtime", {"api_key": "sk-other", "base_url": "https://127.0.0.1:9/v1"})
calls = [gevent.spawn(module.make_client, config) for _ in range(30)] + [gevent.spawn(module.make_client, other)]
gevent.joinall(calls, raise_error=True)
clients = {id(g.value) for g in calls[:30]}
late = module.make_client(config)
print(json.dumps({"builds": builds, "clients": len(clients), "late_is_same": late is calls[0].value,
                  "tls_shared": module.websocket_options(config)["ssl"] is module.websocket_options(other)["ssl"],
                  "plain_has_no_tls": "ssl" not in module.websocket_options(
                      ProviderConfig("llm", "openai_realtime", {"base_url": "http://127.0.0.1:9/v1"}))}))
"""


CERTIFICATE_LOADS = r"""
from gevent import monkey
monkey.patch_all()
import json, ssl
from edge.services.openai import client as module
from shared.providers import ProviderConfig

loads = []
for name in ("load_verify_locations", "set_default_verify_paths"):
    def counted(self, *args, _real=getattr(ssl.SSLContext, name), **kwargs):
        loads.append(1)
        return _real(self, *args, **kwargs)
    setattr(ssl.SSLContext, name, counted)

for key in ("sk-one", "sk-two"):  # two providers: two SDK clients, built for real (no request is made)
    module.make_client(ProviderConfig("llm", "openai", {"api_key": key, "base_url": "https://127.0.0.1:9/v1"}))
print(json.dumps({"loads": len(loads)}))
"""


def _child(script: str) -> dict:
    """Run ``script`` in a fresh interpreter; its last line of output, as JSON."""
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "PROVIDER_ALLOW_PRIVATE": "true"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_burst_of_calls_builds_one_client_per_provider():
    result = _child(CHILD)
    assert sorted(result["builds"]) == ["sk-burst", "sk-other"]  # one build per provider, not one per call
    assert result["clients"] == 1 and result["late_is_same"]
    # wss: one TLS context for every call of the process; ws:// (a local fake) takes none.
    assert result["tls_shared"] and result["plain_has_no_tls"]


def test_vendor_clients_load_the_ca_certificates_once():
    """Each SDK client's HTTP client would load the CA certificates itself (tens of ms of CPU on the hub,
    the first call of each provider during a burst); they share the process's one TLS context instead."""
    assert _child(CERTIFICATE_LOADS)["loads"] == 1
