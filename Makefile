# Case Gateway — `make demo` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test serve lint bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
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
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
