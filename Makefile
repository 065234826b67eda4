# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# Every dependency pinned with its hashes, compiled from pyproject.toml by `make lock`:
# requirements.lock is what runs (the Dockerfile's), requirements-test.lock adds the test extra
# at the same versions (what `make install` puts in .venv). Both include the build backend.
LOCK := requirements.lock
TEST_LOCK := requirements-test.lock
PIP := $(PY) -m pip --disable-pip-version-check
COMPILE = $(PY) -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['build-system']['requires']))" \
	| $(VENV)/bin/uv pip compile pyproject.toml - --universal --python-version 3.11 --generate-hashes \
	  --quiet --custom-compile-command "make lock"

.PHONY: run test faults install lock migration clean

# Installed again whenever a lock changes (or pyproject.toml: the project's own packages).
$(STAMP): $(TEST_LOCK) pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) on PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --require-hashes -r $(TEST_LOCK)
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

install: $(STAMP)

# After changing pyproject.toml's dependencies; then commit both locks.
lock: $(STAMP)
	$(COMPILE) -o $(LOCK)
	$(COMPILE) --extra test --constraint $(LOCK) -o $(TEST_LOCK)

run: install
	$(PY) -m ops.run_embedded

# After changing readmodel/tables.py: the revision that brings a database to it, e.g.
#   make migration m="complaint.deidentified_at"   (review the file in migrations/versions/, commit it)
migration: install
	@test -n "$(m)" || { echo 'say what changed: make migration m="complaint.deidentified_at"'; exit 1; }
	$(PY) -m readmodel.migrate revision -m "$(m)"

# pytest's exit 5 (no test collected) counts as a failure here. The fault suite is its own job.
test: install
	@bash ops/ensure_test_deps.sh
	@$(PY) -m pytest -m "not faults" $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "no tests ran: failing"; exit 1; fi; exit $$rc

# The fault suite (tests/faults, README): whole lifecycles through worker kills, a Temporal
# restart, a PostgreSQL outage and a refusing SMS gateway; prints what it broke and counted.
faults: install
	@bash ops/ensure_test_deps.sh
	@$(PY) -m pytest -m faults -s tests/faults $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "no tests ran: failing"; exit 1; fi; exit $$rc

clean:
	rm -rf $(VENV) data
