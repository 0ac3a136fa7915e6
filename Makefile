# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/ontime demo

lint: install
	$(BIN)/ruff check .

test: lint
	$(BIN)/pytest

bench: install
	$(BIN)/python benchmarks/bench_training_rows.py
	$(BIN)/python benchmarks/bench_train.py
	$(BIN)/python benchmarks/bench_serving.py
	$(BIN)/python benchmarks/bench_monitor.py

clean:
	rm -rf feature_repo/data data logs mlruns mlflow.db reports benchmarks/results
