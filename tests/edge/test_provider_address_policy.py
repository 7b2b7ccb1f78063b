"""A provider whose base_url points into the PBX's own network never receives the API key: the edge
refuses the URL when it builds the client (shared/address_policy.py), and the caller goes to the
domain's fallback as for any vendor that cannot be reached."""

from __future__ import annotations

import pytest

from tests.factories import add_domain_settings
from tests.polling import wait_until


@pytest.mark.edge_env(EDGE_AUDIO_TRANSPORT="unicast", PROVIDER_ALLOW_PRIVATE="false")
def test_an_internal_base_url_is_refused_and_the_call_goes_to_the_fallback(edge, fake_fs, realtime,
                                                                         realtime_secretary):
    domain, secretary = realtime_secretary  # its provider's base_url is the fake's, on 127.0.0.1
    add_domain_settings(domain, fallback_destination="2000")
    call = fake_fs.place_call({"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)})
    assert call.wait("closed", timeout=15)
    assert any(app == "transfer" and arg.startswith("2000 XML ") for app, arg in call.executed)
    assert realtime.sessions == [] and realtime.rejected == 0  # no connection, so no API key sent
    assert wait_until(lambda: "loopback, link-local or private address (127.0.0.1)" in edge.log())
