# Parley: `make run` serves the bot, `make test` runs every test.
# Both install what they need into .venv (Python 3.10) and train only when needed.

PYTHON ?= python3.10
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export RASA_TELEMETRY_ENABLED := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help install model browser console-images run test test-unit test-stories validate lint crossval nlu-ablation bench soak clean trainer-check

help:
	@echo "make run       install, train if needed, serve the bot (SQLite under var/)"
	@echo "make test      install, train if needed, run every test"
	@echo "make validate  check the training data (rasa data validate --fail-on-warning)"
	@echo "make trainer-check  a trainer's YAML-only change in a throwaway copy: retrain, converse, test stories"
	@echo "make crossval  5-fold NLU cross-validation into reports/nlu/ (a benchmark)"
	@echo "make nlu-ablation  n-grams / + embeddings / + safety weights / final on the frozen sets, with latency and memory"
	@echo "make bench     benchmarks against stock Rasa into reports/bench/ (not tests)"
	@echo "make soak      long fault and scale-out runs (pytest -m soak): 20 rounds on two Rasa servers, the stock-lock control"
	@echo "make lint      ruff and mypy"
	@echo "make browser   install chromium for the console's browser tests (apt, as root)"

# Install exactly the versions in requirements/lock.txt (no resolver run, no surprises),
# then the project itself. Re-runs only when the lock or pyproject.toml changes.
# --require-hashes: every file must match a sha256 in the lock, or nothing is installed.
# The project's own editable install cannot be hashed (pip: "cannot be installed when
# requiring hashes, because there is no single file to hash"), so that step runs without
# it; --no-deps and --no-build-isolation keep it from fetching anything.
$(STAMP): requirements/lock.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.10 is needed ($(PYTHON) not found); install it, e.g. 'pyenv install 3.10'"; exit 1; }
	@test -x $(BIN)/python || { echo "Creating $(VENV) with $$($(PYTHON) --version)"; $(PYTHON) -m venv $(VENV); }
	@$(BIN)/python -c 'import sys; assert sys.version_info[:2] == (3, 10), "the .venv is not Python 3.10: remove it and run make again"'
	@echo "Installing pinned dependencies (first time: a few minutes)..."
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r requirements/lock.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

install: $(STAMP)

model: install
	@$(BIN)/parley train

# The console's browser tests drive Debian's chromium (Playwright, pointed at it: nothing is
# downloaded at run time). Installed with apt when missing and we are root (CI); elsewhere
# say how, and the browser tests skip with that reason (in CI, CI=true, they fail instead).
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing chromium for the console's browser tests (apt)..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "chromium is not installed at $(CHROMIUM): the console's browser tests will be skipped (sudo apt-get install chromium)"; \
	fi

# `make run` is the local quick start: development mode (loopback only, no tokens for
# the API and the REST channel). `parley serve` run by hand defaults to production.
run: model
	PARLEY_ENV=development $(BIN)/parley serve

validate: install
	$(BIN)/rasa data validate --fail-on-warning

# The browser tests save screenshots under reports/console/ (not committed); the operators'
# guide shows copies kept in docs/images/. Refresh them after a test run changed the pages.
console-images:
	@test -n "$$(ls reports/console/*.png 2>/dev/null)" || { echo "no screenshots in reports/console/: run the browser tests first (make test)"; exit 1; }
	@for f in reports/console/*.png; do cp "$$f" "docs/images/console-$$(basename $$f)"; done
	@echo "copied $$(ls reports/console/*.png | wc -l) screenshots to docs/images/"

test: model browser
	$(BIN)/rasa data validate --fail-on-warning
	$(BIN)/pytest
	$(BIN)/python -m bot.testing.stories


# A trainer's change made in YAML only (examples/trainers/), in a throwaway copy of the
# project: retrained with Rasa's cache shared (only the dialogue policies retrain), then a
# conversation shows the new turn, an unsafe rule blocked, and every test story passing.
trainer-check: model
	$(BIN)/python -m bot.testing.trainer_check

# Soak tests: the long versions of the scale-out and fault tests (docs/scale-out.md),
# excluded from `make test` by pyproject.toml's addopts. Needs PostgreSQL on 5432 and
# redis-server; starts its own private Redis and PostgreSQL instances for the faults.
soak: model
	nice -n 10 $(BIN)/pytest -m soak -s

lint: install
	$(BIN)/ruff check bot actions tests bench
	$(BIN)/ruff format --check bot actions tests bench
	$(BIN)/mypy bot

crossval: install
	$(BIN)/python -m bench.nlu_crossval

# What the sentence encoder, the safety weights and the second look each add, on the frozen
# sets, with parse latency and the loaded model's memory (reports/nlu/ablation.md; about
# 20 minutes on 2 cores: four trainings that share Rasa's cache, four scorings).
nlu-ablation: model
	$(BIN)/python -m bench.nlu_ablation --final-model models/parley.tar.gz

# Benchmarks (not tests: nothing here fails on a slow machine): the turn profile, REST and
# Twilio load at 1/10/50 concurrent conversations on SQLite and PostgreSQL against a stock
# `rasa init` bot trained in the same run, start-up, memory and training time, into
# reports/bench/ (summary.md, *.json, latency.png). About 30 minutes on 2 idle cores.
# BENCH_ARGS passes options (python -m bench.run_all --help); PARLEY_TRAINING_LOG names
# the output of the last `parley train` to read its time from.
bench: model
	nice -n 10 $(BIN)/python -m bench.run_all $(BENCH_ARGS)

clean:
	rm -rf models build .rasa results var/run
