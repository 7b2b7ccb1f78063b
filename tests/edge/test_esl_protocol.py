"""The Event Socket parser: exact FreeSWITCH framing, fed at every possible TCP split."""

import pytest

from edge.serializers.esl import (
    EslParser,
    EslProtocolError,
    decode_event,
    encode_command,
    encode_execute,
    message_event,
)
from simulator.esl_server import (
    encode_api_response,
    encode_connect_reply,
    encode_disconnect_notice,
    encode_event_plain,
    encode_reply,
)

CONNECT = encode_connect_reply({
    "Event-Name": "CHANNEL_DATA",
    "Unique-ID": "9c1e0d5a-0000-4000-8000-000000000001",
    "Caller-Caller-ID-Name": "Zé Ninguém",
    "Caller-Caller-ID-Number": "+5511999990000",
    "Channel-Read-Codec-Name": "PCMU",
    "variable_domain_uuid": "1d6b1a8e-1111-4111-8111-111111111111",
    "variable_sip_from_uri": "1000@example.com",
    "variable_empty": "",
})
EXECUTE_COMPLETE = encode_event_plain({
    "Event-Name": "CHANNEL_EXECUTE_COMPLETE",
    "Application": "playback",
    "Application-Data": "/tmp/goodbye 1.wav",
    "Application-Response": "FILE PLAYED",
    "variable_current_application": "playback",
})
WITH_BODY = encode_event_plain({"Event-Name": "CUSTOM", "Event-Subclass": "mod_audio_stream::json"},
                               body='{"a": 1}\n')
STREAM = b"".join([
    CONNECT,
    encode_reply("+OK Events Enabled"),
    EXECUTE_COMPLETE,
    encode_api_response("+OK Success\n"),
    WITH_BODY,
    encode_disconnect_notice("9c1e0d5a-0000-4000-8000-000000000001", "linger", 600),
])


def _check(messages):
    assert [m.content_type for m in messages] == [
        "command/reply", "command/reply", "text/event-plain", "api/response", "text/event-plain",
        "text/disconnect-notice",
    ]
    connect = messages[0]
    assert connect.reply_text == "+OK"
    assert connect.headers["Caller-Caller-ID-Name"] == "Zé Ninguém"
    assert connect.headers["Caller-Caller-ID-Number"] == "+5511999990000"
    assert connect.headers["variable_sip_from_uri"] == "1000@example.com"
    assert messages[1].reply_text == "+OK Events Enabled"
    event = message_event(messages[2])
    assert event.name == "CHANNEL_EXECUTE_COMPLETE"
    assert event.get("Application-Data") == "/tmp/goodbye 1.wav"
    assert event.variable("current_application") == "playback"
    assert messages[3].body == b"+OK Success\n"
    custom = message_event(messages[4])
    assert custom.name == "mod_audio_stream::json" and custom.body == '{"a": 1}\n'
    assert messages[5].headers["Content-Disposition"] == "linger"


def test_whole_stream_parses():
    _check(EslParser().feed(STREAM))


def test_every_two_way_split():
    for split in range(1, len(STREAM)):
        parser = EslParser()
        _check(parser.feed(STREAM[:split]) + parser.feed(STREAM[split:]))


def test_byte_at_a_time():
    parser = EslParser()
    messages = []
    for i in range(len(STREAM)):
        messages += parser.feed(STREAM[i : i + 1])
    _check(messages)


def test_connect_reply_has_no_content_length_and_values_are_encoded():
    assert b"Content-Length" not in CONNECT
    assert b"Reply-Text: %2BOK%0A" in CONNECT
    assert b"Caller-Caller-ID-Name: Z%C3%A9%20Ningu%C3%A9m" in CONNECT
    assert b"variable_empty: _undef_" in CONNECT


def test_event_content_length_is_exact():
    header, _, event = EXECUTE_COMPLETE.partition(b"\n\n")
    assert header.startswith(b"Content-Length: ")
    assert int(header.split(b"\n")[0].split(b": ")[1]) == len(event)
    assert header.split(b"\n")[1] == b"Content-Type: text/event-plain"


def test_value_with_encoded_newline_stays_one_value():
    event = decode_event(b"Event-Name: API\nReply: %2BOK%0Asecond%20line\n\n")
    assert event.get("Reply") == "+OK\nsecond line"


@pytest.mark.parametrize("garbage", [
    b"this is not esl\n\n",
    b"Content-Length: banana\n\n",
    b"Content-Length: -5\n\n",
    b"Content-Length: 99999999999\n\n",
    b"x" * 70000,
])
def test_malformed_input_raises(garbage):
    with pytest.raises(EslProtocolError):
        EslParser().feed(garbage)


def test_commands_refuse_line_breaks():
    assert encode_execute("playback", "/tmp/a.wav") == (
        b"sendmsg\ncall-command: execute\nexecute-app-name: playback\nexecute-app-arg: /tmp/a.wav\n\n"
    )
    with pytest.raises(ValueError):
        encode_execute("bridge", "user/1000\n\napi system rm -rf /")
    assert encode_command("myevents") == b"myevents\n\n"
