"""Celery task wrappers, one module per queue; the work itself lives in plain functions they call."""
