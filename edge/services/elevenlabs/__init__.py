"""elevenlabs services."""
