# The complaint desk's one image: the worker by default; the API runs from it with
#   uvicorn --factory api.main:app --host 0.0.0.0 --port 8000   (see docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 app
WORKDIR /app

# Dependencies first, from the lock alone (every version pinned, every file's hash checked; the
# same lock `make install` builds on): a code change rebuilds only the layers below.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

# Then the project itself (packages, policy, config), installed from this directory.
COPY . .
# Bytecode for /app itself (python worker.py imports from here, not site-packages): the workflow
# sandbox imports a workflow's module for every case it runs, and must not compile it each time.
RUN pip install --no-deps --no-build-isolation . \
    && python -m compileall -q /app \
    && mkdir -p /app/data /app/keys \
    && chown app:app /app/data /app/keys \
    && chmod 700 /app/keys

USER app
# All settings come from the environment (settings.py): TEMPORAL_ADDRESS, DATABASE_URL, POLICY_FILE, ...
CMD ["python", "worker.py"]
