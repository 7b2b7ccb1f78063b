"""offline services."""
