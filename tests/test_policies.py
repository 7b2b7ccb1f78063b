"""The shared policy tables (shared/policies/*.json) against the Python implementations.

tests/fusionpbx/phpunit/SharedPolicyCasesTest.php runs the same tables against the FusionPBX app's, so
the page and the edge/workers cannot drift apart.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from shared.address_policy import BASE_URL_SCHEMES, RefusedURL, check_url, checked_base_url
from shared.policies import destination_problem, load_policy
from shared.transfer_rules import MalformedHours, check_business_hours, is_open

POLICIES = Path(__file__).resolve().parents[1] / "shared" / "policies"
ADDRESS = json.loads((POLICIES / "address_policy_cases.json").read_text())
HOURS = json.loads((POLICIES / "business_hours_cases.json").read_text())


def _dns(host: str, _port: int) -> list[str]:
    return ADDRESS["dns"].get(host, [])


def _verdict(url: str, allow_private: bool) -> str:
    try:
        check_url(url, allow_private, _dns, BASE_URL_SCHEMES)
    except RefusedURL:
        return "refused"
    except OSError:
        return "unresolved"
    return "allowed"


@pytest.mark.parametrize("case", ADDRESS["cases"], ids=lambda c: f"{c['url']} ({c['why']})")
def test_address_policy_case(case: dict) -> None:
    assert _verdict(case["url"], case.get("allow_private", False)) == case["expect"]


@pytest.mark.parametrize("case", [c for c in ADDRESS["cases"] if not c.get("allow_private")], ids=lambda c: c["url"])
def test_a_provider_client_reads_only_an_allowed_base_url(case: dict, monkeypatch) -> None:
    """What a client reads as ``ProviderConfig.base_url`` is checked, on every read, by the same policy; a
    name that does not resolve is left to the client, which cannot connect either."""
    from shared.providers import ProviderConfig

    monkeypatch.setattr("shared.address_policy.resolve_host", _dns)
    monkeypatch.setattr("shared.address_policy.provider_allow_private", lambda: False)
    config = ProviderConfig(provider_type="llm", provider_name="openai", config={"base_url": case["url"]})
    if case["expect"] == "refused":
        with pytest.raises(RefusedURL):
            config.base_url  # noqa: B018
    else:
        assert config.base_url == case["url"]


def test_no_base_url_is_the_vendors_default() -> None:
    assert checked_base_url(None) is None and checked_base_url("") is None


def test_a_base_url_is_judged_again_at_every_call(monkeypatch) -> None:
    """A name that moved to an internal address after the page saved it is refused on the next call."""
    from shared.providers import ProviderConfig

    answers = {"api.vendor.test": ["8.8.4.4"]}
    monkeypatch.setattr("shared.address_policy.resolve_host", lambda host, port: answers.get(host, []))
    monkeypatch.setattr("shared.address_policy.provider_allow_private", lambda: False)
    config = ProviderConfig(provider_type="llm", provider_name="openai", config={"base_url": "https://api.vendor.test/v1"})
    assert config.base_url == "https://api.vendor.test/v1"
    answers["api.vendor.test"] = ["169.254.169.254"]
    with pytest.raises(RefusedURL, match="169.254.169.254"):
        config.base_url  # noqa: B018


@pytest.mark.parametrize("case", HOURS["stored"], ids=lambda c: c["why"])
def test_business_hours_case(case: dict) -> None:
    if not case["valid"]:
        with pytest.raises(MalformedHours):
            check_business_hours(case["hours"])
        assert not is_open(case["hours"], datetime.fromisoformat("2026-12-09T14:00:00+00:00"))
        return
    check_business_hours(case["hours"])
    for instant in case.get("open", []):
        assert is_open(case["hours"], datetime.fromisoformat(instant)), instant
    for instant in case.get("closed", []):
        assert not is_open(case["hours"], datetime.fromisoformat(instant)), instant


@pytest.mark.parametrize("case", [c for c in HOURS["form"] if c["stored"]], ids=lambda c: json.dumps(c["days"]))
def test_what_the_page_stores_is_valid_here(case: dict) -> None:
    check_business_hours(case["stored"])


@pytest.mark.parametrize("case", load_policy("transfer_destination")["cases"], ids=lambda c: repr(c["value"][:40]))
def test_transfer_destination_case(case: dict) -> None:
    assert (destination_problem(case["value"]) is None) == case["valid"], case.get("why")


def test_a_redirect_to_an_internal_address_is_refused_before_it_is_sent(monkeypatch) -> None:
    """A public vendor answering 302 to the metadata address: the client's next hop is refused unsent."""
    import httpx

    from shared.address_policy import provider_request_hooks

    monkeypatch.setattr("shared.address_policy.resolve_host", _dns)
    monkeypatch.setattr("shared.address_policy.provider_allow_private", lambda: False)
    sent: list[str] = []

    def vendor(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})

    client = httpx.Client(transport=httpx.MockTransport(vendor), follow_redirects=True,
                          event_hooks=provider_request_hooks("https://api.vendor.test/v1"))
    with pytest.raises(RefusedURL, match="169.254.169.254"):
        client.get("https://api.vendor.test/v1/models")
    assert sent == ["https://api.vendor.test/v1/models"]
