"""One call: its session, state machine, tools and conversation record."""
