#!/bin/sh
# A `flask --app wsgi` command with the service's environment, for cron and for the operator:
#   sudo -u circuit /srv/circuit/deploy/flask.sh search status
set -eu
cd "$(dirname "$0")/.."
set -a
. "${CIRCUIT_ENV_FILE:-/etc/circuit/circuit.env}"
set +a
exec .venv/bin/flask --app wsgi "$@"
