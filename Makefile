# Ally: `make run` and `make test` do all set-up on a fresh machine (venv, install, migrate).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

# constraints.txt pins every package to the version the test suite last passed with.
CONSTRAINTS := constraints.txt

.PHONY: run try test lint format bench mutate migrate clean constraints

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Ally needs Python 3.11 or newer (found " + sys.version.split()[0] + "): run make with PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e '.[test]'
	touch $@ $(VENV)/.installed

# Refresh the pins: install the newest versions pyproject.toml allows, run the suite, and
# write down what passed.
constraints: | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade -e '.[test]'
	$(BIN)/python -m pytest -q
	@{ echo "# The versions the test suite passed with; refresh with make constraints."; \
	  $(BIN)/pip freeze --exclude-editable --local | grep -iv '^ally[ =@]'; } > $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS)
	touch $(VENV)/.installed-test $(VENV)/.installed

migrate: $(VENV)/.installed
	$(BIN)/ally-bot migrate

# Check the configuration first, so a missing token is one line before anything else happens.
run: $(VENV)/.installed
	@$(BIN)/ally-bot check
	@$(BIN)/ally-bot migrate
	@$(BIN)/ally-bot run

# Ally in this terminal, in a local workspace: no Slack app, no token; `ally-bot try` migrates
# its own throwaway database and deletes it when you quit.
try: $(VENV)/.installed
	@$(BIN)/ally-bot try

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.installed-test
	$(BIN)/python -m bench

# Mutation testing of the domain core ([tool.mutmut] in pyproject.toml, docs/testing.md): a fresh
# mutants/ each time, then the score from mutmut's own counts (a mutant that timed out was caught).
mutate: $(VENV)/.installed-test
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2
	@$(BIN)/mutmut results
	@$(BIN)/mutmut export-cicd-stats >/dev/null
	@$(BIN)/python -c 'import json; s = json.load(open("mutants/mutmut-cicd-stats.json")); \
	  k = s["killed"] + s["timeout"]; n = s["total"]; \
	  print(f"mutation score: {k}/{n} killed ({100 * k / max(n, 1):.1f}%)")'

clean:
	rm -rf mutants $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
