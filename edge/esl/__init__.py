"""FreeSWITCH Event Socket: its gevent wiring (``session``, ``server``) over the pure wire format
(:mod:`edge.serializers.esl`).

The design names greenswitch (EvoluxBR/greenswitch) as the ESL library; the edge keeps this small
implementation of its own because greenswitch 0.0.19 breaks three facts of docs/protocols.md that a call
depends on:

* it URL-decodes a whole event block before splitting it into lines, so a value that carries an
  encoded newline or ``": "`` (a caller name, an application argument) turns into extra headers —
  values must be decoded after the lines are split;
* a bad ``Content-Length`` raises inside its reader greenlet, which dies, and every command waiting
  for a reply then waits forever (``send`` has no timeout) — one broken peer must cost one call, and
  cleanly;
* it matches a ``CHANNEL_EXECUTE_COMPLETE`` to the application by name, not by the ``event-uuid`` it
  was sent with, so two ``set`` or ``playback`` executions in a row can be confused.

The wire format is a pure parser fed bytes, tested by replaying frames split at every byte boundary
(tests/edge/test_esl_protocol.py); ``server`` is gevent's ``StreamServer``, as greenswitch's own
outbound server is.
"""
