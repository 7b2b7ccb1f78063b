"""Fixtures of the knowledge tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def upload_dir(tmp_path: Path) -> Path:
    """Where a test's uploads live (the ingestion reads them from here)."""
    folder = tmp_path / "uploads"
    folder.mkdir()
    return folder
