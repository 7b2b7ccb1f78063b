"""What ``pip install .`` gives an operator: the product's packages and a working ``voice-ai``, no tests.

The checkout is copied (setuptools builds in the source tree) and installed with ``pip install --target``;
the installed commands then run from that directory alone, with the dependencies of this virtualenv but
neither the checkout nor its editable install on the path, as they would in a fresh virtualenv.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PRODUCT = {"edge", "shared", "simulator", "voice_ai", "workers"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project as ``pip install .`` lays it out (without dependencies), in a directory of its own."""
    base = tmp_path_factory.mktemp("install")
    source = base / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "__pycache__", ".ruff_cache", ".mypy_cache", "node_modules"))
    target = base / "site-packages"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                           "--no-index", "--target", str(target), str(source)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return target


def run_installed(installed: Path, code: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """Python ``code`` importing only from the install and the dependencies (``-I -S``: no PYTHONPATH, no
    site hooks, hence no editable install of the checkout); ``sys.argv[1:]`` is ``argv``."""
    path = "import sys; sys.path[:0] = [sys.argv.pop(1), sys.argv.pop(1)]; "
    return subprocess.run([sys.executable, "-I", "-S", "-c", path + code, str(installed),
                           sysconfig.get_paths()["purelib"], *argv],
                          cwd=installed.parent, capture_output=True, text=True, timeout=120)


def test_the_install_holds_the_product_packages_and_no_tests(installed):
    top_level = {path.name for path in installed.iterdir() if (path / "__init__.py").is_file()}
    assert top_level == PRODUCT
    record = next(installed.glob("voice_ai_ivr-*.dist-info")) / "RECORD"
    assert not [line for line in record.read_text().splitlines() if line.startswith("tests/")]
    assert (installed / "shared" / "policies").is_dir()  # the package data the FusionPBX app shares


@pytest.mark.parametrize("command", ["demo", "simulate-call", "migrate", "secretaries"])
def test_the_installed_voice_ai_runs_its_commands_without_the_checkout(installed, command):
    done = run_installed(installed, "from voice_ai.cli import main; sys.exit(main(sys.argv[1:]))", command, "--help")
    assert done.returncode == 0, done.stderr
    assert f"usage: voice-ai {command}" in done.stdout


def test_the_installed_product_cannot_import_tests(installed):
    done = run_installed(installed, "import tests")
    assert "No module named 'tests'" in done.stderr
