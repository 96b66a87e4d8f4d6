# Case Gateway — `make demo` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test serve lint bench clean lock lowest test-lowest

# Installs come from hashed lock files, so every machine gets exactly what CI tested:
# requirements.lock (runtime: production, the container), requirements-dev.lock (+ dev tools),
# requirements-lowest.lock (every direct dependency at its declared floor; CI tests it too).
# `make lock` regenerates all three from pyproject.toml.
$(STAMP): pyproject.toml requirements-dev.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/case-gateway demo

test: install
	$(PY) -m pytest -q -rs

serve: install
	$(VENV)/bin/case-gateway migrate
	$(VENV)/bin/case-gateway serve

lint: install
	$(VENV)/bin/ruff check gateway connectors tests bench
	$(VENV)/bin/ruff format --check gateway connectors tests bench
	$(VENV)/bin/mypy

bench: install
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) bench/classify.py
	$(PY) bench/intake.py
	$(PY) bench/smtp.py
	$(PY) bench/relay.py
	$(PY) bench/load.py   # needs wrk (apt-get install wrk)
	$(PY) bench/scale.py  # seeds 1,000,000 messages: minutes

clean:
	rm -rf $(VENV) $(LOWEST) $(TOOLS) var .pytest_cache .mypy_cache .ruff_cache

# uv resolves and hashes; it lives in its own small venv so `make lock` works before install.
# Without PyPI: `make lock UV_FLAGS=--offline` resolves from uv's cache.
TOOLS ?= .venv-tools
UV := $(TOOLS)/bin/uv
UV_COMPILE := $(UV) pip compile pyproject.toml --python-version 3.11 --generate-hashes --quiet $(UV_FLAGS)

$(UV):
	test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet 'uv>=0.5,<1'

lock: $(UV)
	$(UV_COMPILE) --output-file requirements.lock
	$(UV_COMPILE) --extra dev --output-file requirements-dev.lock
	$(UV_COMPILE) --extra dev --resolution lowest-direct --output-file requirements-lowest.lock

# A second venv with every direct dependency at the floor pyproject.toml declares.
LOWEST ?= .venv-lowest
lowest: $(LOWEST)/.installed

$(LOWEST)/.installed: pyproject.toml requirements-lowest.lock
	test -x $(LOWEST)/bin/python || $(PYTHON) -m venv $(LOWEST)
	$(LOWEST)/bin/python -m pip install --quiet --upgrade pip
	$(LOWEST)/bin/python -m pip install --quiet --require-hashes -r requirements-lowest.lock
	$(LOWEST)/bin/python -m pip install --quiet --no-deps -e .
	touch $@

# What the floors must pass (see docs/operations.md, "Dependency floors").
LOWEST_TESTS ?= tests/foundation tests/operations tests/email tests/email_parse tests/sms tests/api
test-lowest: lowest
	$(LOWEST)/bin/python -m pytest -q -rs -p no:cacheprovider -m 'not slow' $(LOWEST_TESTS)
