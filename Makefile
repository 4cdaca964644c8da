# One entry point for everything a newcomer runs. `make test` and `make demo` build their own
# virtualenv and install every dependency (Python, npm and Debian packages) they need.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.installed
TOOLS  := .tools

.PHONY: help check-python-versions install system-deps azurite image-rootfs oracles test demo lint coverage generate bench clean

help:
	@echo "make demo      install and run the seed sample on the local backend (offline)"
	@echo "make test      install everything and run the whole test suite"
	@echo "make generate  regenerate the models of every client generation from their OpenAPI specs"
	@echo "make oracles   install azure-mgmt-batchai 0.2.0, 1.0.1 and 7.0.0 under .tools/oracles (parity tests)"
	@echo "make cli-oracles  install azure-cli-batchai 0.4.10, 0.2.3, 0.1.6 under .tools/oracles/cli-* (CLI parity)"
	@echo "make coverage  regenerate docs/coverage.md"
	@echo "make bench     run the benchmarks under bench/"

RUNTIME_STAMP := $(VENV)/.installed-runtime

# The package and its runtime dependencies only: all `make demo` needs.
$(RUNTIME_STAMP): setup.py pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip setuptools wheel
	$(PIP) install --quiet -e .
	touch $(RUNTIME_STAMP)

# Everything the test suite needs on top (the original SDK as oracle, azureml-core, storage v12, ...).
$(STAMP): $(RUNTIME_STAMP) requirements-test.txt
	$(PIP) install --quiet -e '.[storage,track2]' -r requirements-test.txt
	touch $(STAMP)

# Wheels of the package's runtime dependencies, for tests/packaging (the wheel is installed into a new
# virtualenv from here with --no-index, so the test itself needs no registry). Rebuilt when setup.py changes.
WHEELHOUSE := $(TOOLS)/wheelhouse
$(WHEELHOUSE)/.stamp: setup.py $(RUNTIME_STAMP)
	rm -rf $(WHEELHOUSE)
	$(PIP) wheel --quiet --retries 10 -w $(WHEELHOUSE) .
	rm -f $(WHEELHOUSE)/batchai_compat-*.whl
	touch $@

install: $(STAMP) $(WHEELHOUSE)/.stamp

# The supported Pythons' dependency sets: pip resolves wheels for the package (every extra) and the test
# requirements on each version. Needs the registry; not part of `make test` (see tests/packaging).
PY_VERSIONS := 3.9.25 3.10 3.11 3.12
check-python-versions: $(RUNTIME_STAMP)
	for v in $(PY_VERSIONS); do \
	  echo "resolving for Python $$v"; \
	  $(PIP) install --quiet --disable-pip-version-check --dry-run --ignore-installed --retries 10 \
	    --python-version $$v --only-binary=:all: '.[azureml,storage,identity,track2]' -r requirements-test.txt \
	    || exit 1; \
	done

# OpenMPI for MPI/Horovod jobs. Installed only when mpirun is missing; needs root (CI runs as root).
system-deps:
	@command -v mpirun >/dev/null 2>&1 || { \
	  echo "installing OpenMPI (Debian openmpi-bin)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openmpi-bin libopenmpi-dev >/dev/null; }

# Azurite (the Azure Storage emulator) from npm, into a project-local folder.
azurite: $(TOOLS)/node_modules/.bin/azurite-blob
$(TOOLS)/node_modules/.bin/azurite-blob:
	mkdir -p $(TOOLS)
	cd $(TOOLS) && npm install --silent --no-audit --no-fund azurite@3 >/dev/null

# Root file systems standing for the Azure ML emulator's catalogue images (batchai_compat/testing/amlemu/images.py),
# from Debian packages (apt-get download + dpkg -x); about 15 s and 680 MB.
image-rootfs: $(TOOLS)/rootfs/.stamp
$(TOOLS)/rootfs/.stamp: scripts/build_image_rootfs.sh
	sh scripts/build_image_rootfs.sh $(TOOLS)/rootfs && touch $@

# The pre-workspace originals (azure-mgmt-batchai 0.2.0 and 1.0.1), oracles of tests/parity_generations/: each in
# its own virtualenv (they share the import name with 2.0.0, the main venv's oracle); built once, then reused.
# 7.0.0 (track 2) imports msrest without declaring it: installed alongside.
ORACLE_VERSIONS := 0.2.0 1.0.1 7.0.0
ORACLE_EXTRA_7.0.0 := msrest
oracles: $(foreach v,$(ORACLE_VERSIONS),$(TOOLS)/oracles/$(v)/.installed)
$(TOOLS)/oracles/%/.installed:
	$(PYTHON) -m venv $(TOOLS)/oracles/$*
	$(TOOLS)/oracles/$*/bin/pip install --quiet azure-mgmt-batchai==$* $(ORACLE_EXTRA_$*)
	touch $@

test: install system-deps azurite image-rootfs oracles
	PATH="$(CURDIR)/$(TOOLS)/node_modules/.bin:$$PATH" $(PY) -m pytest $(PYTEST_ARGS)

demo: $(RUNTIME_STAMP)
	$(PY) samples/seed_tensorflow_distributed/seed.py

# Linters live in their own virtualenv: mypy's dependencies conflict with azureml-core's.
LINT_VENV := .venv-lint
$(LINT_VENV)/.installed:
	$(PYTHON) -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/pip install --quiet ruff==0.17.6 mypy==2.4.1
	touch $@

lint: $(LINT_VENV)/.installed
	$(LINT_VENV)/bin/ruff check batchai_compat tests scripts bench samples
	$(LINT_VENV)/bin/mypy batchai_compat

generate: install
	$(PY) scripts/generate_models.py

coverage: install
	$(PY) scripts/coverage_report.py > docs/coverage.md

bench: install
	for b in bench/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) $(TOOLS) build dist *.egg-info

# Fixtures of single features (the CLI's and the gateway's oracles...): each fragment adds its targets and
# may add prerequisites to `test` (a rule without a recipe).
include $(wildcard mk/*.mk)
