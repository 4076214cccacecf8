# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test audit install install-test install-audit translations translations-update clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

# The browser tests also need axe-core (tests/e2e/package-lock.json pins it; used by the tests only).
$(VENV)/.installed-test: requirements-test.txt tests/e2e/package-lock.json $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-test.txt
	npm ci --prefix tests/e2e --no-audit --no-fund
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

$(VENV)/.installed-audit: requirements-audit.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-audit.txt
	touch $@

install-audit: $(VENV)/.installed-audit

# Compiled catalogues are build output (not in git): each is rebuilt when its .po changes, and only then,
# so two runs of `make test` side by side (CI) never rewrite a catalogue the other is reading.
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel compile --domain messages -i $< -o $@

translations: $(CATALOGUES)

run: translations
	$(FLASK) db upgrade
	$(FLASK) demo-data --if-empty
	$(FLASK) search reindex
	$(FLASK) run --host 127.0.0.1 --port 5000

test: install-test translations
	$(BIN)/python -m pytest

# Static analysis of the code (settings in .bandit), and the known vulnerabilities of every pinned
# dependency: pip-audit, completed from PyPI's project pages where its own sources cannot be reached
# (tools/audit_dependencies.py says which pins it could not audit).
audit: install install-audit
	$(BIN)/bandit --ini .bandit --quiet
	$(BIN)/python tools/audit_dependencies.py requirements.txt requirements-test.txt requirements-audit.txt

# Extract the strings of the code and templates and merge them into both catalogues.
translations-update: install
	$(BIN)/pybabel extract --no-location --sort-output -F babel.cfg -k _l -o translations/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -i translations/messages.pot -d translations
	$(BIN)/python translations/fill_english.py

clean:
	rm -rf $(VENV) instance/*.db .pytest_cache
