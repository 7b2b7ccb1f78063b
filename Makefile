# The two commands of the README. The install logic lives in deploy/setup.sh (the operator's installer).
VENV ?= .venv
PYTEST_ARGS ?=
# Most tests wait on simulated calls in real time, not on the CPU: four pytest-xdist workers (each with
# its own database and Redis database of the run's own, tests/run_services.py) cut the suite's wall time on 2 cores.
# Bytecode is cached even where the environment sets PYTHONDONTWRITEBYTECODE: each of the five test processes
# would otherwise rewrite and compile every test module again (3.6 instead of 2.4 s to collect, measured).
PYTEST_WORKERS ?= 4

.PHONY: test demo lint setup

test:
	bash deploy/setup.sh --dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	PYTHONDONTWRITEBYTECODE= $(VENV)/bin/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

demo:
	bash deploy/setup.sh
	$(VENV)/bin/voice-ai demo

setup:
	bash deploy/setup.sh

# ruff (ruff.toml) and mypy (setup.cfg [mypy]: the installed packages).
lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
