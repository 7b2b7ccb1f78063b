"""Speech and language services by vendor: ``<vendor>/{stt,tts,llm}.py``, built by :mod:`.factory`."""
