"""Pure wire formats: bytes and command lines in, values out, no sockets (the ESL format is :mod:`edge.esl.protocol`)."""
