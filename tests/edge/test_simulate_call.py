"""``voice-ai simulate-call`` against a running edge: what an operator sees when placing a test call."""

from __future__ import annotations

import subprocess
import sys
import wave

from simulator.caller import CallerTurn, run_simulated_call
from tests.edge.harness import REPO
from tests.fakes.openai_realtime import Reply, ToolCall


def test_simulated_call_reports_the_greeting_each_answer_and_the_hangup(edge, realtime, realtime_secretary, tmp_path):
    domain, secretary = realtime_secretary
    realtime.script = [Reply("Abrimos às oito horas.", 1500), ToolCall("end_call", {"reason": "done"})]
    realtime.user_transcripts = ["Que horas vocês abrem?", "Obrigado, tchau."]

    result = run_simulated_call(port=edge.esl_port, domain_uuid=domain, voice_secretary_uuid=secretary,
                                turns=[CallerTurn.say("What time do you open?"), CallerTurn.say("Thank you, bye.")])

    assert result.answered and result.greeting is not None
    assert [t.answer is not None for t in result.turns] == [True, True]
    assert result.turns[0].answer.end - result.turns[0].answer.start >= 1.0  # the 1.5 s reply was heard
    assert all(t.response_ms is not None and t.response_ms >= 0 for t in result.turns)
    assert result.hung_up_by == "edge" and result.hangup_cause == "NORMAL_CLEARING"
    report = result.report()
    assert "secretary greets" in report and 'caller says "What time do you open?"' in report
    assert "call ended by the edge (NORMAL_CLEARING)" in report

    wav_path = result.write_wav(tmp_path / "call.wav")
    with wave.open(str(wav_path)) as wav:
        assert wav.getnchannels() == 2 and wav.getframerate() == 8000
        assert abs(wav.getnframes() / 8000 - result.duration) < 0.5


def test_simulate_call_command_prints_the_timeline(edge, realtime, realtime_secretary, tmp_path):
    domain, secretary = realtime_secretary
    realtime.script = [Reply("Claro.", 800), ToolCall("end_call", {"reason": "done"})]
    realtime.user_transcripts = ["Olá.", "Tchau."]
    wav_path = tmp_path / "out.wav"
    done = subprocess.run(
        [sys.executable, "-m", "voice_ai.cli", "simulate-call", "--port", str(edge.esl_port), "--domain-uuid",
         str(domain), "--secretary-uuid", str(secretary), "--say", "Hello.", "--say", "Goodbye.",
         "--wav", str(wav_path)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "secretary greets" in done.stdout and 'caller says "Goodbye."' in done.stdout
    assert "call ended by the edge" in done.stdout
    assert wav_path.stat().st_size > 44


def test_simulate_call_says_when_no_edge_listens(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = subprocess.run(
        [sys.executable, "-m", "voice_ai.cli", "simulate-call", "--port", str(port), "--domain-uuid",
         "00000000-0000-0000-0000-000000000001", "--secretary-uuid", "00000000-0000-0000-0000-000000000002"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 1
    assert f"cannot reach the edge's ESL port at 127.0.0.1:{port}" in done.stdout
