"""The ``voice-ai`` command: the composition root of the edge, the workers, the shared library and the
simulator (:mod:`voice_ai.cli`), and ``voice-ai demo`` (:mod:`voice_ai.demo`), which uses all four."""
