# Certification support bot: every CI step is a target here. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV       := .venv
BIN        := $(VENV)/bin
RASA       := $(BIN)/rasa
SPACY_DIR  := var/spacy/en_certbot
MODEL      := models/certbot.tar.gz
BOT_PORT     ?= 5005
ACTIONS_PORT ?= 5055
CONSOLE_PORT ?= 5006
ROLE         ?= reviewer
BENCH_VISITORS ?= 20
BENCH_SECONDS  ?= 60
# No telemetry, quiet TensorFlow, no network at run time.
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 3
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONWARNINGS := ignore::DeprecationWarning
export HF_HUB_OFFLINE := 1

# Training and evaluation keep sentence vectors here, so reruns encode only new texts
# (certbot/nlu/sentence_encoder.py); never set for the bot, which keeps no visitor's text.
VECTORS    := SENTENCE_VECTOR_STORE=var/cache/sentence-vectors
# Training examples from the console's reviewed annotations (retrain/dataset.py).
REVIEWED   := var/training/reviewed.yml
REPORT     := var/results/eval/report.json
TRAINING_INPUTS := config.yml domain.yml $(shell find data -name '*.yml' 2>/dev/null) $(wildcard $(REVIEWED)) $(SPACY_DIR)/meta.json

.PHONY: help setup train run scale console user shell retrain test test-fast lint validate widget-check widget pytest test-stories eval bench bench-console bench-patches bench-retrain data clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

setup: $(VENV)/.installed $(SPACY_DIR)/meta.json var/.keep ## create .venv (Python 3.10), install pinned deps, build the spaCy pipeline

$(VENV)/.installed: requirements.txt requirements-dev.txt requirements.lock requirements-encoder.txt
	@python=$$(scripts/find-python.sh) && echo "Using $$python" && \
	  { [ -x $(BIN)/python ] || "$$python" -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip==24.0
	$(BIN)/python -m pip install --quiet -r requirements.txt -c requirements.lock
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -c requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r requirements-encoder.txt
	@touch $@

$(SPACY_DIR)/meta.json: $(VENV)/.installed certbot/tools/spacy_pipeline.py
	$(BIN)/python -m certbot.tools.spacy_pipeline $(SPACY_DIR)

var/.keep:
	@mkdir -p var models && touch $@

train: $(MODEL) $(REPORT) ## train if inputs changed (answer texts only: seconds), gate, make live if it passes
	@$(BIN)/python -m retrain.make register $(MODEL)

$(MODEL): $(TRAINING_INPUTS) | setup
	@$(BIN)/python -m retrain.make reuse $(MODEL) || { start=$$(date +%s) && \
	  $(VECTORS) $(RASA) train --fixed-model-name certbot --out models --data data $$(ls $(REVIEWED) 2>/dev/null) && \
	  echo $$(( $$(date +%s) - start )) > models/certbot.train-seconds; }

# The report the gate reads before a newly trained model goes live (retrain/registry.py).
$(REPORT): $(MODEL)
	@mkdir -p var/log && echo "Evaluating $(MODEL) for the gate (about 30 s; var/log/eval.log)"
	@$(VECTORS) $(BIN)/python -m certbot.tools.evaluate --model $(MODEL) --stories tests/stories --out $(@D) \
	  >var/log/eval.log 2>&1 || true
	@test $@ -nt $(MODEL) || { echo "The evaluation failed: see var/log/eval.log" >&2; exit 1; }

run: setup $(MODEL) $(REPORT) ## start the bot (5005), its action server (5055) and the staff console (5006)
	@BOT_PORT=$(BOT_PORT) ACTIONS_PORT=$(ACTIONS_PORT) CONSOLE_PORT=$(CONSOLE_PORT) scripts/run.sh $(MODEL)

scale: setup $(MODEL) $(REPORT) ## N bots on PostgreSQL + Redis, nginx if installed: make scale N=2 (docs/deploy.md)
	@test -n "$(N)" || { echo "usage: make scale N=2" >&2; exit 2; }
	@scripts/scale.sh "$(N)" $(MODEL)

console: setup ## serve only the staff console (port 5006)
	CONSOLE_PORT=$(CONSOLE_PORT) $(BIN)/python -m console

user: setup ## create a staff account: make user NAME=alice ROLE=admin|reviewer|viewer (asks the password; piped: one line of stdin)
	@test -n "$(NAME)" || { echo "usage: make user NAME=alice [ROLE=admin|reviewer|viewer]" >&2; exit 2; }
	$(BIN)/python -m console.users add "$(NAME)" --role "$(ROLE)"

shell: setup $(MODEL) ## chat with the bot in this terminal (rasa shell through certbot.serve; stop `make run` first)
	@BOT_PORT=$(BOT_PORT) ACTIONS_PORT=$(ACTIONS_PORT) scripts/run.sh $(MODEL) shell

retrain: setup $(MODEL) $(REPORT) ## retrain from reviewed annotations with the evaluation gate (exit 1: rejected)
	$(BIN)/python -m retrain

validate: setup ## rasa data validate --fail-on-warnings
	$(RASA) data validate --fail-on-warnings

lint: setup ## ruff (lint and format check), mypy (types)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

pytest: setup $(MODEL) ## unit, integration and browser tests (real bot, action server, Chromium)
	$(BIN)/python -m pytest -q

test-fast: setup ## the unit tests only, on both cores: no trained model, server or browser (the inner loop)
	$(BIN)/python -m pytest -q -m unit -n 2

test-stories: setup $(MODEL) ## rasa test on the test stories, failing on any wrong prediction
	$(BIN)/python -m certbot.serve test core --model $(MODEL) --stories tests/stories --fail-on-prediction-errors --out var/results/stories

eval: setup $(MODEL) ## held-out NLU accuracy, CLINC150 off-topic false answers, real questions, stories; the gates
	$(VECTORS) $(BIN)/python -m certbot.tools.evaluate --model $(MODEL) --stories tests/stories --out $(dir $(REPORT))

bench-console: setup $(MODEL) ## the staff console at 1k, 10k and 100k conversations (recorded, replicated): cold/warm times, RSS
	$(BIN)/python -m bench.console $(if $(SIZES),--sizes $(SIZES))

bench-patches: setup $(MODEL) ## CPU per message of each patch of Rasa's internals, with and without it
	$(BIN)/python -m bench.patches

bench-retrain: setup ## click to live, timed, on a running `make run` (run it on a copy): make bench-retrain NAME=alice
	@test -n "$(NAME)" || { echo "usage: make bench-retrain NAME=alice (a reviewer)" >&2; exit 2; }
	$(BIN)/python -m bench.retrain --user "$(NAME)"

bench: setup $(MODEL) ## load benchmark, every text new then repeated texts, ours vs a `rasa init` bot (BENCH_SECONDS=60 per load)
	$(BIN)/python -m bench --visitors $(BENCH_VISITORS) --seconds $(BENCH_SECONDS)

widget-check: ## rebuild the widget (esbuild) and check widget/dist is up to date; skipped without Node
	@if command -v npm >/dev/null 2>&1; then \
	  cd widget && npm ci --silent --no-audit --no-fund && npm run --silent build && \
	  git diff --exit-code --stat -- dist && echo "widget/dist matches widget/src"; \
	else echo "npm not found: skipping the widget build check"; fi

widget: ## rebuild widget/dist from widget/src (needs Node.js)
	cd widget && npm ci --silent --no-audit --no-fund && npm run build

test: lint validate widget-check pytest test-stories eval ## everything CI runs

data: setup ## regenerate the CLINC150-derived files from ../shared/data/clinc150
	$(BIN)/python -m certbot.tools.clinc

clean: ## remove trained models, results and the built spaCy pipeline (keeps conversations)
	rm -rf models var/spacy var/results
