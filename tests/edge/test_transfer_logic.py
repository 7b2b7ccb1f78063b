"""``transfer_call`` and ``take_message`` against a recording call (no FreeSWITCH): what the caller is told,
where they are bridged, what an originate job's result means, which destinations are refused, and
voicemail/operator offers that are taken up."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from edge.call import transfer
from edge.call.announce import announcement_text, spoken_answer
from edge.call.tools import TakeMessageTool
from edge.call.transfer import (
    BridgeResult,
    destination_problem,
    dial_string,
    directory_user_query,
    job_result,
    originate_command,
    run_transfer,
)
from edge.core.clock import WALL_CLOCK
from edge.core.context import CallContext, SecretaryProfile
from edge.engines.tool_definitions import ToolResult
from tests.factories import add_domain_settings, add_rule, add_secretary

CLOSED = {"timezone": "UTC", "weekdays": {"mon": []}}  # open on no day


class RecordingCall:
    """A call that records what the transfer does to it; bridges end with ``outcome``."""

    def __init__(self, domain: uuid.UUID, secretary: uuid.UUID, outcome: str = "no_answer",
                 language: str = "en-US", unavailable: BridgeResult | None = None) -> None:
        profile = SecretaryProfile(
            voice_secretary_uuid=secretary, name="S", system_prompt="", greeting_message="", goodbye_message="Bye",
            language=language, voice_name=None, rag_enabled=True, rag_similarity_threshold=0.5, rag_top_k=3,
            max_conversation_turns=10, silence_timeout_seconds=10, silence_hangup_seconds=20, max_call_seconds=900)
        self.context = CallContext(call_uuid=str(uuid.uuid4()), domain_uuid=domain, secretary=profile,
                                   providers={}, caller_id="5511988887777", caller_name="Caller")
        self.outcome = outcome
        self.said: list[str] = []
        self.bridged: list[tuple[str, str]] = []
        self.ended: list[str] = []
        self.completed: list[str] = []
        self.messages: list[dict[str, str]] = []
        self.absent = unavailable
        self.announcements: list[str | None] = []
        self.clock = WALL_CLOCK

    def unavailable(self, destination: str, context: str) -> BridgeResult | None:
        return self.absent

    def say(self, text: str) -> None:
        self.said.append(text)

    def bridge(self, destination: str, context: str, announcement: str | None = None,
               ring_seconds: int | None = None) -> BridgeResult:
        self.bridged.append((destination, context))
        self.announcements.append(announcement)
        return BridgeResult(self.outcome, self.outcome.upper())

    def transfer_completed(self, target: str) -> None:
        self.completed.append(target)

    def end_call(self, reason: str) -> None:
        self.ended.append(reason)

    def transfer(self, arguments: dict[str, Any]) -> ToolResult:
        return run_transfer(self, arguments)

    def store_message(self, message: dict[str, str]) -> None:
        self.messages.append(message)


@pytest.fixture(autouse=True)
def no_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """No transfers worker: the edge decides in-process (the Celery path has its own call test)."""
    monkeypatch.setattr(transfer, "ask_workers", lambda *args, **kwargs: None)


def test_a_closed_department_offers_voicemail_and_the_caller_takes_it(make_domain):
    domain = make_domain()
    secretary = add_secretary(domain)
    add_rule(domain, "Support", "3001", keywords=["help"], business_hours=CLOSED, fallback_action="voicemail",
             fallback_destination="*993001")
    add_domain_settings(domain, transfer_context="acme-ctx")
    call = RecordingCall(domain, secretary, outcome="answered")

    first = call.transfer({"destination": "support", "reason": "my printer broke"})
    assert call.bridged == [] and first.payload["status"] == "closed" and first.payload["fallback"] == "voicemail"
    assert call.said == ["Support is not taking calls right now, we are outside business hours. "
                         "I can send you to voicemail, or take a message. Which do you prefer?"]

    second = call.transfer({"destination": "voicemail", "reason": "caller accepted"})
    assert call.bridged == [("*993001", "acme-ctx")]
    assert second.payload["transferred"] is True and call.completed == ["*993001"]
    assert second.transferred and second.ended and not first.transferred and first.spoken


def test_a_hangup_fallback_says_goodbye_and_ends_the_call(make_domain):
    domain = make_domain()
    secretary = add_secretary(domain)
    add_rule(domain, "Vendas", "2001", business_hours=CLOSED, fallback_action="hangup")
    call = RecordingCall(domain, secretary, language="pt-BR")
    result = call.transfer({"destination": "vendas"})
    assert result.payload["ended"] is True and call.ended and call.bridged == []
    assert call.said == ["Vendas não está atendendo agora, estamos fora do horário de atendimento. "
                         "Por favor, ligue novamente mais tarde."]


def test_a_busy_rule_with_an_operator_fallback_offers_and_then_bridges_the_operator(make_domain):
    domain = make_domain()
    secretary = add_secretary(domain)
    add_rule(domain, "Sales", "2001", transfer_message="Connecting you to sales.", fallback_action="operator",
             fallback_destination="1050")
    add_domain_settings(domain, operator_destination="1000", transfer_context="ctx")
    call = RecordingCall(domain, secretary, outcome="busy")
    result = call.transfer({"destination": "sales"})
    assert call.said == ["Connecting you to sales.",
                         "Sales is busy right now. I can transfer you to the operator, or take a message. "
                         "Which do you prefer?"]
    assert result.payload["status"] == "busy" and call.bridged == [("2001", "ctx")]
    call.outcome = "answered"
    call.transfer({"destination": "operator"})
    assert call.bridged[-1] == ("1050", "ctx")  # the rule's operator, not the domain's


def test_nothing_matches_offers_a_message(make_domain):
    domain = make_domain()
    call = RecordingCall(domain, add_secretary(domain))
    result = call.transfer({"destination": "astronaut department"})
    assert call.bridged == [] and result.payload["fallback"] == "message"
    assert call.said == ["I could not find that department. May I take a message so they can call you back?"]


@pytest.mark.parametrize(("body", "status"), [
    ("+OK 0d6a43fd-94aa-4c05-8c08-dbc0a1b2c3d4\n", "answered"),
    ("-ERR NO_ANSWER\n", "no_answer"),
    ("-ERR USER_BUSY\n", "busy"),
    ("-ERR USER_NOT_REGISTERED\n", "unavailable"),
    ("-ERR ORIGINATOR_CANCEL\n", "hangup"),
    ("-ERR UNALLOCATED_NUMBER\n", "failed"),
    ("", "failed"),
])
def test_an_originate_job_result_is_read(body, status):
    assert job_result(body).status == status


def test_an_unavailable_destination_is_not_announced_and_the_fallback_is_offered(make_domain):
    domain = make_domain()
    secretary = add_secretary(domain)
    add_rule(domain, "Sales", "2001", transfer_message="Connecting you to sales.")
    call = RecordingCall(domain, secretary, unavailable=BridgeResult("unavailable", "DO_NOT_DISTURB"))
    result = call.transfer({"destination": "sales"})
    assert call.bridged == [] and result.payload["status"] == "unavailable" and result.payload["cause"] == "DO_NOT_DISTURB"
    assert call.said == ["Sales is not available right now. May I take a message so they can call you back?"]


def test_take_message_stores_and_reads_back(make_domain):
    domain = make_domain()
    call = RecordingCall(domain, add_secretary(domain), language="pt-BR")
    result = TakeMessageTool().run(call, {"caller_name": "Maria", "message": "Ligar sobre o contrato",
                                          "callback_number": "(11) 98888-7777"})
    assert call.messages == [{"caller_name": "Maria", "message": "Ligar sobre o contrato",
                              "callback_number": "11988887777"}]
    assert result.payload["read_back"] == ("Maria, seu recado: Ligar sobre o contrato. "
                                   "Retornaremos no número 1 1 9 8 8 8 8 7 7 7 7.")
    empty = TakeMessageTool().run(call, {"message": " "})
    assert empty.payload["ok"] is False and len(call.messages) == 1
    defaults = TakeMessageTool().run(call, {"message": "Call me"})
    assert defaults.payload["callback_number"] == "5511988887777" and defaults.payload["caller_name"] == "Caller"


def test_only_plain_dial_tokens_are_looked_up_in_the_directory():
    assert directory_user_query("2001", "acme.example.com") == "user_exists id 2001 acme.example.com"
    assert directory_user_query("2001 evil", "acme") is None  # no second argument smuggled into the api
    assert directory_user_query("2001", "acme\napi hupall") is None
    assert dial_string("2001", "acme.example.com", directory_user=True) == "user/2001@acme.example.com"
    assert dial_string("9000", "acme.example.com") == "loopback/9000/acme.example.com"


@pytest.mark.parametrize("destination", [
    "sofia/gateway/carrier/5511999999999", "2001@other.example.com", "{origination_uuid=x}2001", "[a=b]2001",
    "2001,2002", "2001|2002", "2001;fs_path=x", "2001 2002", "2001\t", "", "user/2001"])
def test_a_dial_string_is_never_a_destination(destination):
    assert destination_problem(destination, "acme.example.com", "acme.example.com") is not None


def test_only_the_tenants_own_context_is_dialled():
    assert destination_problem("2001", "acme.example.com", "acme.example.com") is None
    assert destination_problem("*993001", "acme.example.com", "acme.example.com") is None
    assert "not the tenant's own" in destination_problem("2001", "other.example.com", "acme.example.com")
    assert destination_problem("2001", "default", "acme.example.com") is not None


def test_the_new_leg_is_parked_when_answered_and_shows_a_clean_caller_id():
    command = originate_command("L1", "user/2001@acme", 20, "+55 (11) 9999-0000", "Maria, {evil}=x")
    assert command == ("originate {origination_uuid=L1,originate_timeout=20,ignore_early_media=true,"
                       "origination_caller_id_number=+551199990000,origination_caller_id_name='Maria evilx'}"
                       "user/2001@acme &park()")


def test_an_announcement_says_who_calls_and_why_and_hears_yes_or_no():
    assert announcement_text("en-US", "Maria", "5511", "her appointment.") == (
        "Hello, I have Maria on the line about her appointment. Press 1 or say yes to take the call, "
        "or press 2 to decline.")
    assert announcement_text("pt-BR", "", "123", None).startswith("Olá, tenho 1 2 3 na linha. Tecle 1")
    assert spoken_answer("Yes, put her through") == "accepted" and spoken_answer("Sim, pode passar") == "accepted"
    assert spoken_answer("No, not now") == "declined" and spoken_answer("Não posso agora") == "declined"
    assert spoken_answer("Who is it?") is None


def test_an_announced_rule_rings_with_the_announcement(make_domain):
    domain = make_domain()
    secretary = add_secretary(domain)
    add_rule(domain, "Sales", "2001", announce=True)
    call = RecordingCall(domain, secretary, outcome="answered")
    call.transfer({"destination": "sales", "reason": "a quote"})
    assert call.announcements == ["Hello, I have Caller on the line about a quote. Press 1 or say yes to take "
                                  "the call, or press 2 to decline."]
