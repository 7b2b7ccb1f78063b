"""``"package.module:name"`` targets imported when first needed, so that a process imports only the parts
(and vendor SDKs) it uses, and a part missing from an installation is a clear error, not a traceback."""

from __future__ import annotations

import importlib
from typing import Any


class MissingTarget(LookupError):
    """The target's module is not installed, needs a package that is not, or lacks the name."""


def import_target(target: str) -> Any:
    """The object named by ``target`` (``"package.module:name"``); raise :class:`MissingTarget` saying what
    is missing."""
    module_name, name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise MissingTarget(f"{module_name} is not installed") from exc
        raise MissingTarget(f"{module_name} needs a missing package: {exc.name}") from exc
    found = getattr(module, name, None)
    if found is None:
        raise MissingTarget(f"{module_name} has no {name}")
    return found
