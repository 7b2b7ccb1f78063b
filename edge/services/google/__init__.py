"""google services."""
