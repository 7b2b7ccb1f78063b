"""Dialogue managers that need no generative model."""
