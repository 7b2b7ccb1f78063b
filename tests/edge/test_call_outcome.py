"""What a call is stored as when several things happen during it (edge/call/outcome.py)."""

from edge.call.outcome import CallOutcome
from shared.models import OUTCOMES, Outcome


def test_a_call_nobody_acted_on_is_abandoned_and_one_ended_by_the_secretary_is_resolved():
    outcome = CallOutcome()
    assert outcome.value is Outcome.ABANDONED
    outcome.resolved()
    assert outcome.value is Outcome.RESOLVED


def test_a_message_then_a_transfer_is_stored_as_transferred_with_both_kept():
    outcome = CallOutcome()
    outcome.message_taken({"message": "call me back"})
    assert outcome.value is Outcome.MESSAGE
    outcome.transferred("2001")
    outcome.resolved()
    assert (outcome.value, outcome.transfer_target, outcome.taken_message) == (
        Outcome.TRANSFERRED, "2001", {"message": "call me back"})


def test_a_timer_verdict_is_kept_by_the_hangup_after_it():
    outcome = CallOutcome()
    outcome.ended_as(Outcome.ABANDONED)  # the caller stayed silent
    outcome.resolved()
    assert outcome.value is Outcome.ABANDONED


def test_a_rejected_call_sent_to_the_fallback_destination_stays_rejected_and_is_never_stored():
    outcome = CallOutcome()
    outcome.rejected()
    outcome.transferred("9000")
    assert outcome.value is Outcome.REJECTED and outcome.transfer_target == "9000"
    assert Outcome.REJECTED not in OUTCOMES and set(OUTCOMES) == set(Outcome) - {Outcome.REJECTED}
