#!/bin/sh
# One-shot, in the temporalio/admin-tools image (docker-compose service `temporal-setup`):
# create the namespace (or set its retention) and register the search attributes of every case kind before any worker or API starts
# (a workflow started with an unregistered search attribute is refused).
#
# SEARCH_ATTRIBUTES lists "Name=Type" pairs; they must be exactly workflows/case.py CaseSearch.ALL
# (tests/ops/test_compose.py checks it). Safe to run again: the server accepts the same name and type
# again, and refuses a name registered with another type (which fails this script, as it should).
set -eu

: "${TEMPORAL_ADDRESS:?host:port of the Temporal frontend}"
: "${TEMPORAL_NAMESPACE:=default}"
: "${NAMESPACE_RETENTION:=720h}"
: "${SEARCH_ATTRIBUTES:?Name=Type pairs, space separated}"
: "${WAIT_ATTEMPTS:=60}"

cli() { temporal "$@" --address "$TEMPORAL_ADDRESS"; }

attempt=1
until cli operator cluster health >/dev/null 2>&1; do
    if [ "$attempt" -ge "$WAIT_ATTEMPTS" ]; then
        echo "Temporal at $TEMPORAL_ADDRESS not healthy after $attempt attempts" >&2
        exit 1
    fi
    attempt=$((attempt + 1))
    sleep 2
done

# Closed histories hold the cases' payloads (customer data among them): kept NAMESPACE_RETENTION,
# which must be settings.Settings temporal_retention_days (what `make run` sets; ops/namespace.py).
if ! cli operator namespace describe --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
    echo "creating namespace $TEMPORAL_NAMESPACE (retention $NAMESPACE_RETENTION)"
    cli operator namespace create --namespace "$TEMPORAL_NAMESPACE" --retention "$NAMESPACE_RETENTION"
else
    echo "namespace $TEMPORAL_NAMESPACE: retention $NAMESPACE_RETENTION"
    cli operator namespace update --namespace "$TEMPORAL_NAMESPACE" --retention "$NAMESPACE_RETENTION"
fi

for pair in $SEARCH_ATTRIBUTES; do
    name=${pair%%=*}
    type=${pair#*=}
    attempt=1
    # Retried: a namespace just created takes a moment to reach every frontend.
    until cli operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" --name "$name" --type "$type"; do
        if [ "$attempt" -ge 10 ]; then
            echo "could not register search attribute $name ($type)" >&2
            exit 1
        fi
        attempt=$((attempt + 1))
        sleep 2
    done
done
echo "namespace $TEMPORAL_NAMESPACE ready with search attributes: $SEARCH_ATTRIBUTES"
