#!/bin/sh
# One-shot, in the temporalio/admin-tools image (docker-compose service `temporal-schema`): bring
# Temporal's two PostgreSQL databases to the schema of this admin-tools version, before the server starts.
#
# The databases and their owner role are made by deploy/postgres/init-databases.sh. Safe to run on
# every `docker compose up`: `setup-schema -v 0.0` leaves a database that is past 0.0 alone, and
# `update-schema` only applies the versions still missing (none when current).
set -eu

: "${POSTGRES_SEEDS:?host of PostgreSQL}"
: "${DB_PORT:=5432}"
: "${POSTGRES_USER:?role owning the Temporal databases}"
: "${SQL_PASSWORD:?its password}"
: "${DBNAME:=temporal}"
: "${VISIBILITY_DBNAME:=temporal_visibility}"
: "${SCHEMA_ROOT:=/etc/temporal/schema/postgresql/v12}"
export SQL_PASSWORD  # read by temporal-sql-tool, so it never shows in a process list

sql_tool() {
    temporal-sql-tool --plugin postgres12 --endpoint "$POSTGRES_SEEDS" --port "$DB_PORT" --user "$POSTGRES_USER" "$@"
}

for pair in "$DBNAME=temporal" "$VISIBILITY_DBNAME=visibility"; do
    db=${pair%%=*}
    schema=${pair#*=}
    echo "schema of $db ($schema)"
    sql_tool --db "$db" setup-schema --version 0.0
    sql_tool --db "$db" update-schema --schema-dir "$SCHEMA_ROOT/$schema/versioned"
done
echo "Temporal schema ready in $DBNAME and $VISIBILITY_DBNAME"
