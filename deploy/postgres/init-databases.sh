#!/bin/sh
# Run once by the postgres image on an empty data volume (/docker-entrypoint-initdb.d), as the
# superuser: one role and database per user of this server.
#   temporal    owns temporal + temporal_visibility (schema by deploy/temporal/setup-schema.sh)
#   complaints  owns complaints, the read model (tables made by ReadModel.create_schema)
set -eu

: "${POSTGRES_USER:=postgres}"
: "${TEMPORAL_DB_PASSWORD:?}"
: "${COMPLAINTS_DB_PASSWORD:?}"

psql --set ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
    --set temporal_password="$TEMPORAL_DB_PASSWORD" \
    --set complaints_password="$COMPLAINTS_DB_PASSWORD" <<'SQL'
CREATE ROLE temporal LOGIN PASSWORD :'temporal_password';
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;

CREATE ROLE complaints LOGIN PASSWORD :'complaints_password';
CREATE DATABASE complaints OWNER complaints;
SQL
