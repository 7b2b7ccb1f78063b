# The two commands of the README. The install logic lives in deploy/setup.sh (the operator's installer).
VENV ?= .venv
PYTEST_ARGS ?=

.PHONY: test demo lint setup

test:
	bash deploy/setup.sh --dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

demo:
	bash deploy/setup.sh
	$(VENV)/bin/voice-ai demo

setup:
	bash deploy/setup.sh

lint:
	$(VENV)/bin/ruff check .
