# Two commands on a fresh machine: `make demo` (set up, run the default simulation) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test browser lint bench clean

$(STAMP): pyproject.toml setup.py src/pmtwin/_cnative.c src/pmtwin/_cslurm.c src/pmtwin/_cshared.h
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	# an editable install leaves the sources uncompiled; bytecode now spares every start compiling them
	$(BIN)/python -m compileall -q src/pmtwin
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/pmtwin simulate --out runs/demo

# Chromium for the browser tests (tests/browser): Debian's package, installed when root with apt-get.
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium for the browser tests (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver \
		|| echo "note: installing chromium failed: the browser tests will be skipped (or fail under PMTWIN_REQUIRE_BROWSER=1)"; \
	else \
		echo "note: /usr/bin/chromium is missing (install it as root: apt-get install chromium): the browser tests will be skipped (or fail under PMTWIN_REQUIRE_BROWSER=1)"; \
	fi

test: $(STAMP) browser
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/workload.py
	$(BIN)/python benchmarks/report.py
	$(BIN)/python benchmarks/sweep.py

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache
