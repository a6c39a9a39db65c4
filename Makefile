# The two commands a new user runs, as root on a fresh Debian machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install system-deps test lint schemas demo bench clean

install: system-deps $(STAMP)

system-deps:
	@scripts/install-system-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

lint: install
	$(BIN)/ruff check reconciler tests bench
	$(BIN)/mypy --strict reconciler

test: install lint
	$(BIN)/python -m pytest

schemas: install
	$(BIN)/reconciler schema --out schemas

# docs/manifest-reference.md from the models (a test compares it, as for the schemas).
.PHONY: reference
reference: install
	$(BIN)/python -m reconciler.reference --out docs/manifest-reference.md

demo: install
	scripts/demo

bench: install
	$(BIN)/python bench/run.py

# The Debian package, built by Debian's tools in build/deb/ (docs/packaging.md).
.PHONY: deb
deb: install
	scripts/build-deb $(BIN)/python

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
