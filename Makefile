# Set-up and everyday commands. On a fresh machine: `make demo`, then `make test`.
#
# The virtual environment is built once with a Python >= 3.12 found on the machine (mesa 3.5
# and the dashboard stack need it; on 3.11 only an older, incompatible mesa installs).
# Installs are recorded in stamp files that depend on pyproject.toml, so a second `make`
# installs nothing unless the dependencies changed.

VENV    ?= .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
STAMP_DEV := $(VENV)/.installed-dev
ASSETS  := $(VENV)/.solara-assets
# `make demo PYTHON=/path/to/python3.12` skips the search below.
PYTHON  ?=

.DEFAULT_GOAL := help
.PHONY: help demo test bench mutation notebook install install-dev assets dashboard screenshots clean distclean

help:
	@echo "make demo       create $(VENV) (Python >= 3.12), install trustsim, compare the main policies (report in reports/demo)"
	@echo "make test       install the dev extras and run the whole test suite"
	@echo "make bench      run the benchmarks (tests/benchmarks) with timing"
	@echo "make mutation   check that the validation suite catches every deliberate mutation of the model (hours)"
	@echo "make notebook   re-run docs/trustsim.ipynb in place (its outputs are what the repository shows)"
	@echo "make dashboard  serve the workshop dashboard on http://127.0.0.1:8765 (DASHBOARD_ARGS='--host 0.0.0.0' for a room)"
	@echo "make screenshots  regenerate docs/screenshots/*.png of every dashboard page (needs /usr/bin/chromium)"
	@echo "make clean      remove caches, build files and install stamps (keeps $(VENV) and results/)"
	@echo "make distclean  clean, and remove $(VENV) too"

# The main job: the default scenario's focal business under the main policy presets, 20
# replicates each on common random numbers, a table on screen and an HTML report with plots.
DEMO_POLICIES ?= experiential,broadcast,coupon,peer_playground,silent
demo: install
	$(VENV)/bin/trustsim compare default --policies $(DEMO_POLICIES) --replicates 20 --report reports/demo
	@echo
	@echo "The trustsim command lives in $(VENV)/bin: run '. $(VENV)/bin/activate' once in this shell"
	@echo "(then 'trustsim --help'), or call it by its path: '$(VENV)/bin/trustsim run default'."

# The browser tests need Solara's front end in the venv (no CDN here) and Debian's chromium.
# Two pytest workers (pytest-xdist), handed whole test files so module fixtures run once: the
# tests are single-threaded, and the perturbed-rule docking test's compile (a minute or more) then
# overlaps the rest instead of adding to it.
TEST_WORKERS ?= 2
test: install-dev assets
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

# --benchmark-skip in pyproject's addopts keeps benchmarks out of `make test`; the later
# --benchmark-enable/--benchmark-only win here because command-line options come after addopts.
bench: install-dev assets
	$(PY) -m pytest tests/benchmarks --benchmark-enable --benchmark-only

# Each mutant of tests/mutations.py in a copy of the source, the pattern and docking tests run on
# it; the table of what caught what is docs/ODD.md 1.2 (python -m tests.mutations prints it).
mutation: install-dev
	$(PY) -m pytest tests/test_mutations.py -m mutation -s

# The example notebook, executed where it lives so its outputs are current; its results folder is
# a scratch directory.
notebook: install-dev
	cd docs && ../$(PY) -m jupyter execute --inplace trustsim.ipynb && rm -rf notebook-results

install: $(STAMP)
install-dev: $(STAMP_DEV)
assets: $(ASSETS)

DASHBOARD_ARGS ?=
dashboard: $(ASSETS)
	$(VENV)/bin/trustsim dashboard $(DASHBOARD_ARGS)

screenshots: install-dev assets
	$(PY) -m dashboards.screenshots docs/screenshots

# Solara's page loads its JavaScript, CSS and fonts through a CDN proxy; offline it stays blank
# unless the packages sit in $(VENV)/share/solara/cdn. They come from the npm registry.
$(ASSETS): $(STAMP) dashboards/assets.py
	$(PY) -m dashboards.assets
	@touch $@

# Candidates in order of preference. A pyenv shim such as `python3.12` may exist and still fail
# ("command not found" unless PYENV_VERSION is set), so each candidate is run, not just looked up;
# pyenv's own installs are tried by their real paths, newest patch release first.
$(PY):
	@py="$(PYTHON)"; \
	if [ -z "$$py" ]; then \
	  root=$$(pyenv root 2>/dev/null || true); \
	  for c in python3.13 python3.12 \
	           $$(ls -d "$$root"/versions/3.13.*/bin/python3 2>/dev/null | sort -rV) \
	           $$(ls -d "$$root"/versions/3.12.*/bin/python3 2>/dev/null | sort -rV) \
	           python3; do \
	    if "$$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then py="$$c"; break; fi; \
	  done; \
	fi; \
	if [ -n "$(PYTHON)" ] && ! "$$py" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
	  echo "error: PYTHON=$(PYTHON) is not a working Python >= 3.12 ($$("$$py" --version 2>&1))" >&2; exit 1; \
	fi; \
	if [ -z "$$py" ]; then \
	  echo "error: trustsim needs Python >= 3.12 and none was found (tried python3.13, python3.12," >&2; \
	  echo "  pyenv's 3.13.*/3.12.* installs and python3 = $$(python3 --version 2>&1))." >&2; \
	  echo "  Install Python 3.12 or 3.13 (e.g. 'pyenv install 3.12', 'apt-get install python3.12-venv'," >&2; \
	  echo "  or from python.org), or name one: make demo PYTHON=/path/to/python3.12" >&2; \
	  exit 1; \
	fi; \
	echo "creating $(VENV) with $$py ($$("$$py" --version 2>&1))"; \
	"$$py" -m venv "$(VENV)" || { rm -rf "$(VENV)"; echo "error: '$$py -m venv' failed (on Debian/Ubuntu install python3.X-venv)" >&2; exit 1; }

# A venv made by hand with an older Python would install an incompatible mesa: say so plainly.
$(STAMP): pyproject.toml | $(PY)
	@$(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' || { \
	  echo "error: $(VENV) uses $$($(PY) --version 2>&1); trustsim needs >= 3.12. Run 'make distclean' and retry." >&2; exit 1; }
	$(PY) -m pip install --quiet -e .
	@echo "compiling the fast engine's kernels once for this machine (about a minute; cached afterwards)"
	$(PY) -m sim.fast
	@touch $@

$(STAMP_DEV): $(STAMP) pyproject.toml
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $@

clean:
	rm -rf build dist *.egg-info .pytest_cache .hypothesis .benchmarks $(STAMP) $(STAMP_DEV) $(ASSETS)
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
