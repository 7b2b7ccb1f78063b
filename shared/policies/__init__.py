"""The policy tables shared with the FusionPBX app (``shared/policies/*.json``).

Each table is read by both sides and its cases are run by both test suites (tests/test_policies.py,
tests/fusionpbx/phpunit/SharedPolicyCasesTest.php), so the page and the edge/workers refuse the same values.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).resolve().parent


@cache
def load_policy(name: str) -> dict[str, Any]:
    """The table ``shared/policies/<name>.json``."""
    return json.loads((FOLDER / f"{name}.json").read_text(encoding="utf-8"))


def destination_problem(value: str) -> str | None:
    """Why ``value`` may not be a transfer destination (``transfer_destination.json``), or None."""
    policy = load_policy("transfer_destination")
    if not value:
        return "empty"
    if len(value) > policy["max_length"]:
        return f"longer than {policy['max_length']} characters"
    for char in value:
        if char in policy["forbidden_characters"]:
            return f"contains {char!r}"
        if policy["forbid_control_characters"] and (ord(char) < 0x20 or ord(char) == 0x7F):
            return f"contains the control character {char!r}"
    return None
