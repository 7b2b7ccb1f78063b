"""Pure wire formats: bytes and command lines in, values out, no sockets (the Event Socket's: :mod:`.esl`;
mod_audio_stream's: :mod:`.audio_stream`)."""
