"""Audio formats: exact G.711 tables."""
