"""The call simulator: a fake FreeSWITCH that places calls on an edge and a scripted caller that speaks.

It plays FreeSWITCH's side of the outbound Event Socket and of the audio (``unicast`` UDP and
mod_audio_stream, :mod:`simulator.freeswitch`, :mod:`simulator.mod_audio_stream`), with a caller whose
sentences are espeak-ng audio (:mod:`simulator.voice`). ``voice-ai simulate-call`` and ``voice-ai demo``
place their calls with it (:mod:`simulator.caller`), and the tests drive the edge through it. It is a
client of the edge, never imported by it: a top-level package of its own, not part of ``edge``.
"""
