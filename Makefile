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
.PHONY: help venv locales validate train run shell test test-fast test-slow test-e2e lint evaluate redteam answer-eval clean
.PHONY: translations-export translations-import retrain rollback review sign-off offline-reply

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

validate: locales ## check everything a content edit can break, as file:line (STRICT=1: pending reviews and stale translations are errors)
	$(PY) -m bot validate $(if $(STRICT),--strict)

train: locales ## train the model if data/, domain.yml or config.yml changed since the last training
	$(PY) -m bot train

# WORKERS=2: the Rasa server on both cores (Sanic workers sharing a conversation lock in a
# local redis-server, installed if missing); the default is one process, nothing else needed.
WORKERS ?= 1
run: train $(if $(filter-out 1,$(WORKERS)),redis-service) ## start the action server and the Rasa server (Ctrl-C stops both; STRICT=1 for production; WORKERS=2 both cores)
	$(PY) -m bot run --port $(PORT) --action-port $(ACTION_PORT) --workers $(WORKERS) $(if $(STRICT),--strict)

shell: train ## chat with the bot in the terminal (Rasa's shell, action server started alongside)
	@mkdir -p var && chmod 700 var
	@$(PY) -c "from bot.tools.servers import runtime_endpoints; from pathlib import Path; runtime_endpoints($(ACTION_PORT), Path('var/shell-tracker.db'), Path('var/endpoints-shell.yml'))"
	@$(PY) -m bot.action_server --port $(ACTION_PORT) >var/actions-shell.log 2>&1 & pid=$$!; \
	trap "kill $$pid 2>/dev/null" EXIT; \
	$(PY) -m rasa shell --model models/current.tar.gz --endpoints var/endpoints-shell.yml

test: lint train browser ## install, lint, train if needed, run the whole test suite (CI: .ci/run)
	$(PY) -m pytest

# Test tiers (docs/architecture.md): `make test` runs all of them.
test-fast: locales ## unit tests only: no server, no trained model, no Rasa command (under a minute)
	$(PY) -m pytest -m "not e2e and not slow" -q -p no:cacheprovider -n auto

test-slow: locales ## tests that run a Rasa command in a subprocess or train a classifier
	$(PY) -m pytest -m slow -q -p no:cacheprovider

test-e2e: train browser ## the real action server and Rasa server (and Chromium for the widget)
	$(PY) -m pytest -m e2e -q -p no:cacheprovider

lint: $(STAMP) ## ruff: lint and the formatter's check (`.venv/bin/ruff format` fixes the layout)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# The website widget's browser tests drive Debian's Chromium (Playwright cannot download
# its own browser here) and need fonts for Arabic (Naskh) and Urdu (Nastaliq). Installed
# with apt-get when missing (CI runs as root); WIDGET_TESTS=0 skips both.
.PHONY: browser
browser: ## install Debian's Chromium and Noto fonts for the widget's browser tests, if missing
	@if [ "$(WIDGET_TESTS)" = "0" ]; then exit 0; fi; \
	missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="chromium"; \
	dpkg -s fonts-noto-core >/dev/null 2>&1 || missing="$$missing fonts-noto-core"; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing for the widget's browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) || \
	  { echo "could not install$$missing (apt-get as root); install it, or run with WIDGET_TESTS=0" >&2; exit 1; }; \
	fi

.PHONY: screenshots
screenshots: train browser ## the website widget in en/ar/ur, desktop and phone, into reports/widget/ (README)
	WIDGET_TESTS=1 WIDGET_SCREENSHOTS=1 $(PY) -m pytest tests/e2e/test_widget.py -q -k test_screenshots -p no:cacheprovider

evaluate: train ## intent accuracy per language on the held-out sets (data/eval/held_out/)
	$(PY) -m bot evaluate

redteam: train ## the independent safety red teams (data/eval/safety) through the web channel, per form and concept
	$(PY) -m bot redteam

answer-eval: train ## right answer and reply language per written form and dialect (data/eval/nlu)
	$(PY) -m bot answer-eval

# ---- content staff: translations, retraining, learning from conversations (bot/tools/content/) ----
FORCE ?=
DB ?=
SINCE ?=

translations-export: $(STAMP) ## write locales/ar|ur/answers.po for the translators (fuzzy = English changed)
	$(PY) -m bot translations-export $(if $(FORCE),--force)

translations-import: $(STAMP) ## read the translators' locales/ar|ur/answers.po back into data/answers
	$(PY) -m bot translations-import

retrain: locales ## validate, train a candidate, compare with the model in service, promote if no worse (FORCE=1)
	$(PY) -m bot retrain $(if $(FORCE),--force)

rollback: $(STAMP) ## put the model that was in service before back in service
	$(PY) -m bot rollback

review: $(STAMP) ## list what clinicians must sign; export messages the bot handled badly (DB=var/tracker.db SINCE=YYYY-MM-DD) to review/
	$(PY) -m bot review $(if $(DB),--db $(DB)) $(if $(SINCE),--since $(SINCE))

# A clinician's sign-off of one answer (or STATUS=content-checked / STATUS=pending):
#   make sign-off ID=procedure.pain REVIEWER="Dr A. Rahman" ROLE="aesthetic physician" REGISTRATION="GMC 1234567"
ID ?=
STATUS ?= approved
sign-off: $(STAMP) ## record an answer's review (ID= REVIEWER= ROLE= REGISTRATION= [STATUS=content-checked|pending] [DATE=])
	@if [ -z "$(ID)" ]; then echo "give the answer id: make sign-off ID=procedure.pain ..." >&2; exit 2; fi
	$(PY) -m bot sign-off "$(ID)" --status "$(STATUS)" --reviewer "$(REVIEWER)" --role "$(ROLE)" \
	  --registration "$(REGISTRATION)" $(if $(DATE),--date $(DATE))

# ---- the staff workbench (bot/workbench/): README "Staff workbench" ----
.PHONY: workbench staff-user
NAME ?=
ROLE ?=
REG ?=
workbench: locales ## the staff workbench on http://127.0.0.1:5007 (WORKBENCH_PORT, WORKBENCH_HOST, DB=var/tracker.db or a database URL)
	$(PY) -m bot workbench $(if $(DB),--db "$(DB)")

# The password is read from standard input: printf '%s\n' 'a long password' | make staff-user NAME=Sara ROLE=editor
staff-user: $(STAMP) ## create or update a workbench account: NAME= ROLE=editor|clinician [REG="GMC 1234567"], password on stdin
	@if [ -z "$(NAME)" ] || [ -z "$(ROLE)" ]; then echo "give NAME= and ROLE=editor|clinician (and REG= for a clinician)" >&2; exit 2; fi
	@$(PY) -m bot staff-user --name "$(NAME)" --role "$(ROLE)" $(if $(REG),--registration "$(REG)")

offline-reply: $(STAMP) ## rewrite domain.yml's built-in urgent reply (utter_urgent_offline) from data/answers/regions.yml
	$(PY) -m bot offline-reply

clean: ## remove the trained model, runtime files and caches (keeps .venv)
	rm -rf models var reports .rasa .pytest_cache
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +

# Performance and scale-out (issue 8): README "Performance" and docs/deploy.md.
# bench: about 15 minutes (two trainings when stale, four server runs); run it on a quiet machine.
.PHONY: bench test-scale scale-services redis-service
bench: train redis-service ## load benchmark: stock vs ours on one core and on both, 1/20/100 conversations and one of 300 turns (reports/)
	$(PY) -m bench

redis-service: ## install Debian's redis-server if missing (make run WORKERS=2, make bench; apt-get, as root)
	@command -v redis-server >/dev/null 2>&1 || { \
	  echo "installing redis-server (the conversation lock shared by the Rasa server's workers)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null) || \
	  { echo "could not install redis-server (apt-get as root)" >&2; exit 1; }; }

scale-services: ## install Debian's postgresql and redis-server for test-scale, if missing (apt-get, as root)
	@missing=""; \
	command -v redis-server >/dev/null 2>&1 || missing="redis-server"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing for the scale-out test"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) || \
	  { echo "could not install$$missing (apt-get as root)" >&2; exit 1; }; \
	fi

test-scale: train scale-services ## two Rasa + two action servers on PostgreSQL and Redis: order, no loss, a server killed
	SCALE_TESTS=1 $(PY) -m pytest tests/scale -q
