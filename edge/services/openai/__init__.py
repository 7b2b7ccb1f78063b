"""openai services."""
