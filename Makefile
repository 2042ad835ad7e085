# The clinic bot's commands. `make run` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONPATH := $(CURDIR)
PORT ?= 5005
ACTION_PORT ?= 5055
STRICT ?=

.DEFAULT_GOAL := help
.PHONY: help venv locales validate train run shell test test-fast evaluate clean

help: ## show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.txt constraints.txt
	@if [ ! -x $(PY) ]; then py=$$(scripts/find-python.sh) && echo "creating $(VENV) with $$py" && $$py -m venv $(VENV); fi
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip==24.0
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	@touch $(STAMP)

venv: $(STAMP) ## create .venv with Python 3.10 and the pinned dependencies

locales: $(STAMP) ## compile the gettext catalogs (locales/*/LC_MESSAGES/*.po) with Babel
	@$(PY) -m bot locales >/dev/null

validate: locales ## check the answer store, catalogs, lexicon and Rasa data (STRICT=1: refuse pending entries)
	$(PY) -m bot validate $(if $(STRICT),--strict)
	$(PY) -m rasa data validate --domain domain.yml --data data/nlu data/rules data/stories --fail-on-warnings

train: locales ## train the model if data/, domain.yml or config.yml changed since the last training
	$(PY) -m bot train

run: train ## start the action server and the Rasa server (Ctrl-C stops both)
	$(PY) -m bot run --port $(PORT) --action-port $(ACTION_PORT)

shell: train ## chat with the bot in the terminal (Rasa's shell, action server started alongside)
	@mkdir -p var
	@$(PY) -c "from bot.servers import runtime_endpoints; from pathlib import Path; runtime_endpoints($(ACTION_PORT), Path('var/shell-tracker.db'), Path('var/endpoints-shell.yml'))"
	@$(PY) -m rasa run actions --actions actions --port $(ACTION_PORT) >var/actions-shell.log 2>&1 & pid=$$!; \
	trap "kill $$pid 2>/dev/null" EXIT; \
	$(PY) -m rasa shell --model models/current.tar.gz --endpoints var/endpoints-shell.yml

test: train ## install, train if needed, run the whole test suite
	$(PY) -m pytest

evaluate: train ## intent accuracy per language on the held-out sets (tests/nlu/)
	$(PY) -m bot evaluate

clean: ## remove the trained model, runtime files and caches (keeps .venv)
	rm -rf models var reports .rasa .pytest_cache
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +
