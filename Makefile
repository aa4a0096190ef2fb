# One command for the portfolio, one for the tests. Both set themselves up in .venv with the practice
# extra (Keras, TFDS, papermill) and a backend. Rendering and building alone need only `pip install -e .`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# The Keras backend: TensorFlow with CUDA where a GPU is visible, the CPU build elsewhere.
BACKEND_EXTRA := $(shell nvidia-smi -L >/dev/null 2>&1 && echo gpu || echo cpu)
# Reporting installs the package and its backend only; the tests add their tools on top, so a new
# pytest or playwright never touches what the experiments ran with.
STAMP      := $(VENV)/.installed-$(BACKEND_EXTRA)
TEST_STAMP := $(VENV)/.installed-$(BACKEND_EXTRA)-test

.PHONY: report test test-quick status render build publish serve clean-site

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[practice,$(BACKEND_EXTRA)]"
	@rm -f $(VENV)/.installed-*
	@touch $@

$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[practice,$(BACKEND_EXTRA),test,dask]"
	@touch $@

## report: execute stale runs (FORCE=1 re-executes all; WORKERS=N on N local Dask workers), seed reflections, build site/
report: $(STAMP)
	$(PY) -m reportgen report $(if $(FORCE),--force) $(if $(WORKERS),--workers $(WORKERS))

# Test files spread over this many processes (pytest-xdist; a file's tests stay in one process, so its
# module fixtures are built once). TEST_WORKERS=0 runs everything in this process.
TEST_WORKERS ?= 2
XDIST := $(if $(filter 0,$(TEST_WORKERS)),-p no:xdist,-n $(TEST_WORKERS) --dist loadfile)

## test: the test suite
test: $(TEST_STAMP)
	$(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

## test-quick: the inner loop, every test that starts no kernel, trains nothing and opens no browser
test-quick: $(TEST_STAMP)
	$(PY) -m pytest $(XDIST) -m "not slow and not browser" $(PYTEST_ARGS)

status: $(STAMP)
	$(PY) -m reportgen status

render: $(STAMP)
	$(PY) -m reportgen render

build: $(STAMP)
	$(PY) -m reportgen build

## publish: deploy site/ to GitHub Pages
publish: $(STAMP)
	$(PY) -m reportgen publish

## serve: live preview; rebuilds when a reflection, a template or a result changes
serve: $(STAMP)
	$(PY) -m mkdocs serve

clean-site:
	rm -rf site
