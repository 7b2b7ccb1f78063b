"""Transfer decisions: priorities, keywords, business hours in each rule's timezone, fallbacks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from shared.tasks import DECIDE_TRANSFER
from shared.transfer_rules import (
    DomainDefaults,
    Rule,
    TransferRequest,
    decide_for_request,
    decide_transfer,
    is_open,
)
from tests.factories import add_domain_settings, add_rule, add_secretary

WEEKDAYS_9_TO_18 = {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
# Wednesday 2024-05-15 14:00 UTC = 11:00 in São Paulo (UTC-3) = 23:00 in Tokyo (UTC+9).
WED_14_UTC = datetime(2024, 5, 15, 14, 0, tzinfo=UTC)
SALES = Rule("Vendas", "2001", keywords=("comprar", "orçamento", "preço"), priority=10)
SUPPORT = Rule("Suporte Técnico", "2002", keywords=("internet", "não funciona", "sem sinal"), priority=20)
FINANCE = Rule("Financeiro", "2003", keywords=("boleto", "pagamento"), priority=30, transfer_context="acme.com",
               transfer_message="Vou transferir para o financeiro.")


def decide(rules, destination="", words="", at=WED_14_UTC, defaults=None, secretary=None):
    return decide_transfer(rules, TransferRequest(destination, words, secretary), at, defaults)


@pytest.mark.parametrize(("destination", "words", "extension"), [
    ("vendas", "", "2001"),
    ("VENDAS", "", "2001"),
    ("suporte tecnico", "", "2002"),  # accents and case ignored
    ("", "minha internet está sem sinal desde ontem", "2002"),
    ("", "queria pagar um BOLETO atrasado", "2003"),
    ("2003", "", "2003"),  # the extension itself
    ("financeiro", "quero comprar", "2001"),  # both match: Vendas has the better priority
])
def test_department_extension_and_keywords_choose_the_rule(destination, words, extension):
    decision = decide([FINANCE, SUPPORT, SALES], destination, words)
    assert decision.action == "transfer" and decision.destination == extension


def test_the_lowest_priority_number_wins_and_context_and_message_come_along():
    urgent = Rule("Financeiro urgente", "2999", keywords=("boleto",), priority=1, transfer_context="vip.acme.com",
                  transfer_message="Um momento.")
    decision = decide([FINANCE, urgent], words="boleto vencido")
    assert (decision.destination, decision.context, decision.message) == ("2999", "vip.acme.com", "Um momento.")
    decision = decide([FINANCE], words="boleto vencido")
    assert decision.context == "acme.com" and decision.message == "Vou transferir para o financeiro."


def test_keywords_match_whole_words_only():
    assert decide([Rule("Vendas", "2001", keywords=("pre",))], words="preciso de ajuda").action == "message"


def test_disabled_and_other_secretaries_rules_are_ignored():
    mine, other = uuid.uuid4(), uuid.uuid4()
    rules = [
        Rule("Vendas", "2001", priority=1, enabled=False),
        Rule("Vendas", "2002", priority=2, voice_secretary_uuid=other),
        Rule("Vendas", "2003", priority=3, voice_secretary_uuid=mine),
        Rule("Vendas", "2004", priority=3),
    ]
    assert decide(rules, "vendas", secretary=mine).destination == "2003"  # own rule before domain-wide on a tie
    assert decide(rules, "vendas", secretary=None).destination == "2004"


@pytest.mark.parametrize(("timezone", "open_"), [
    ("America/Sao_Paulo", True),   # 11:00 Wednesday
    ("Asia/Tokyo", False),         # 23:00 Wednesday
    ("Europe/Lisbon", True),       # 15:00 Wednesday
    ("America/Los_Angeles", False),  # 07:00 Wednesday
])
def test_business_hours_are_read_in_the_rules_timezone(timezone, open_):
    rule = Rule("Vendas", "2001", business_hours={"timezone": timezone, "weekdays": WEEKDAYS_9_TO_18},
                fallback_action="voicemail", fallback_destination="*992001")
    decision = decide([rule], "vendas")
    if open_:
        assert decision.action == "transfer" and decision.reason == "matched"
    else:
        assert (decision.action, decision.reason, decision.destination) == ("voicemail", "closed", "*992001")


def test_weekends_overnight_shifts_and_end_of_day():
    hours = {"timezone": "America/Sao_Paulo", "weekdays": {"fri": [["22:00", "06:00"]], "sat": [["10:00", "24:00"]]}}
    saturday = lambda h, m=0: datetime(2024, 5, 18, h + 3, m, tzinfo=UTC) if h + 3 < 24 else datetime(  # noqa: E731
        2024, 5, 19, h + 3 - 24, m, tzinfo=UTC)
    assert is_open(hours, saturday(5, 59))      # Friday's night shift, after midnight
    assert not is_open(hours, saturday(6, 0))
    assert not is_open(hours, saturday(9, 59))
    assert is_open(hours, saturday(10, 0))
    assert is_open(hours, saturday(23, 59))
    assert not is_open(hours, datetime(2024, 5, 20, 3 + 12, tzinfo=UTC))  # Monday noon: no hours that day
    assert is_open(None, WED_14_UTC) and is_open({}, WED_14_UTC)


MALFORMED_HOURS = [
    {"timezone": "UTC", "weekdays": {"wed": [["09:00:00", "18:00:00"]]}},  # seconds
    {"timezone": "UTC", "weekdays": {"wed": [["9h", "18h"]]}},
    {"timezone": "UTC", "weekdays": {"wed": ["09:00-18:00"]}},  # a string, not a [start, end] pair
    {"timezone": "UTC", "weekdays": {"wed": [["08:00", "25:00"]]}},
    {"timezone": "UTC", "weekdays": {"wednesday": [["08:00", "18:00"]]}},
    {"timezone": "UTC", "weekdays": ["09:00-18:00"]},
    ["09:00-18:00"],
    "9h-18h",
]


@pytest.mark.parametrize("hours", MALFORMED_HOURS, ids=[str(h)[:40] for h in MALFORMED_HOURS])
def test_malformed_business_hours_close_the_rule_and_are_logged_once(hours, caplog):
    broken = Rule("Vendas", "2001", keywords=("comprar",), priority=1, business_hours=hours,
                  fallback_action="voicemail", fallback_destination="*992001",
                  transfer_rule_uuid=uuid.uuid4())
    # Its fallback applies, as outside business hours; an open rule further down still takes the call.
    decision = decide([broken], "vendas")
    assert (decision.action, decision.reason, decision.destination) == ("voicemail", "closed", "*992001")
    on_call = Rule("Plantão de vendas", "2099", keywords=("comprar",), priority=2)
    assert decide([broken, on_call], words="quero comprar").destination == "2099"

    errors = [r for r in caplog.records if getattr(r, "tag", "") == "❌ ERROR"]
    assert len(errors) == 1  # once, not on every call
    assert str(broken.transfer_rule_uuid) in errors[0].getMessage()
    assert "malformed business_hours" in errors[0].getMessage()


def test_a_stored_rule_with_malformed_hours_does_not_break_the_decision(make_domain):
    domain = make_domain()
    add_rule(domain, "Vendas", "2001", priority=1, business_hours=["09:00-18:00"], fallback_action="voicemail",
             fallback_destination="*992001")
    add_rule(domain, "Suporte", "2002", keywords=["internet"], business_hours={"timezone": "UTC", "weekdays": "x"})
    # What the transfers task and the edge's in-process fallback both run.
    request = {"domain_uuid": str(domain), "at": WED_14_UTC.isoformat()}
    sales = decide_for_request({**request, "destination": "vendas"})
    assert (sales["action"], sales["reason"], sales["destination"]) == ("voicemail", "closed", "*992001")
    assert decide_for_request({**request, "caller_text": "sem internet"})["reason"] == "closed"


def test_a_closed_rule_gives_way_to_an_open_one_with_a_worse_priority():
    day = Rule("Suporte", "2002", priority=1, business_hours={"timezone": "UTC", "weekdays": {"sat": [["08:00", "12:00"]]}})
    on_call = Rule("Suporte", "9999", priority=2)
    assert decide([day, on_call], "suporte").destination == "9999"


@pytest.mark.parametrize(("action", "fallback", "defaults", "expected"), [
    ("message", None, DomainDefaults(), ("message", None)),
    ("hangup", None, DomainDefaults(), ("hangup", None)),
    ("operator", "1001", DomainDefaults(operator_destination="1000"), ("operator", "1001")),
    ("operator", None, DomainDefaults(operator_destination="1000"), ("operator", "1000")),
    ("operator", None, DomainDefaults(), ("message", None)),  # nowhere to send them: take a message
])
def test_outside_hours_the_rules_fallback_applies(action, fallback, defaults, expected):
    closed = {"timezone": "UTC", "weekdays": {"sun": [["08:00", "09:00"]]}}
    rule = Rule("Vendas", "2001", business_hours=closed, fallback_action=action, fallback_destination=fallback)
    decision = decide([rule], "vendas", defaults=defaults)
    assert (decision.action, decision.destination) == expected
    assert decision.reason == "closed"


@pytest.mark.parametrize(("action", "fallback", "expected"), [
    ("message", None, None),
    ("voicemail", "*992001", "*992001"),
    ("operator", "1001", "1001"),
    ("operator", None, "1000"),  # the domain's operator
])
def test_an_open_rule_carries_its_fallback_for_a_bridge_nobody_answers(action, fallback, expected):
    rule = Rule("Vendas", "2001", fallback_action=action, fallback_destination=fallback)
    decision = decide([rule], "vendas", defaults=DomainDefaults(operator_destination="1000"))
    assert (decision.action, decision.destination) == ("transfer", "2001")
    assert (decision.fallback_action, decision.fallback_destination) == (action, expected)


def test_nothing_matches_offers_a_message_or_the_operator_when_asked():
    defaults = DomainDefaults(operator_destination="1000", transfer_context="acme.com")
    assert decide([SALES], "jurídico", defaults=defaults).as_dict()["action"] == "message"
    for words in ("operador", "a telefonista, por favor"):  # the edge's own offer says "a telefonista"
        operator = decide([SALES], words, defaults=defaults)
        assert (operator.action, operator.destination, operator.context) == ("operator", "1000", "acme.com")


def test_rules_load_from_the_tenants_rows(make_domain):
    domain, other_domain = make_domain(), make_domain()
    secretary = add_secretary(domain)
    add_rule(domain, "Vendas", "2001", keywords=["comprar"], priority=5, voice_secretary_uuid=secretary,
             business_hours={"timezone": "America/Sao_Paulo", "weekdays": WEEKDAYS_9_TO_18})
    add_rule(domain, "Vendas", "2009", priority=1, enabled=False)
    add_rule(other_domain, "Vendas", "6666", priority=0)
    add_domain_settings(domain, operator_destination="1000", transfer_context="acme.com")
    request = {"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary), "caller_text": "quero comprar"}
    assert decide_for_request({**request, "at": WED_14_UTC.isoformat()})["destination"] == "2001"
    night = decide_for_request({**request, "at": "2024-05-15T23:30:00-03:00"})
    assert (night["action"], night["reason"]) == ("message", "closed")


@pytest.mark.slow
def test_decision_round_trip_through_celery(worker, producer, make_domain):
    domain = make_domain()
    secretary = add_secretary(domain)
    add_rule(domain, "Suporte", "2002", keywords=["internet"], transfer_context="acme.com")
    result = producer.send_task(DECIDE_TRANSFER, ({
        "domain_uuid": str(domain), "voice_secretary_uuid": str(secretary), "destination": "",
        "caller_text": "a internet caiu", "at": WED_14_UTC.isoformat(),
    },)).get(timeout=20)
    assert result["action"] == "transfer" and result["destination"] == "2002" and result["context"] == "acme.com"
