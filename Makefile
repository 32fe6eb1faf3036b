# Two commands do all the set-up: `make demo` and `make test`. Both create .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: demo test lint bench clean venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[all,test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/tocsin demo

test: $(STAMP)
	$(BIN)/python -m pytest

# mypy needs the folders under their package names: a tree of links gives it that.
TYPECHECK := build/typecheck
lint: $(STAMP)
	$(BIN)/ruff check core hal plugins tests benchmarks
	rm -rf $(TYPECHECK) && mkdir -p $(TYPECHECK)/tocsin
	for entry in core/*; do ln -s "$$PWD/$$entry" $(TYPECHECK)/tocsin/; done
	ln -s "$$PWD/hal" $(TYPECHECK)/tocsin/hal && ln -s "$$PWD/plugins" $(TYPECHECK)/tocsin/plugins
	MYPYPATH=$(TYPECHECK) $(BIN)/mypy -p tocsin

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) tocsin-data .pytest_cache
