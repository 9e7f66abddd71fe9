#!/usr/bin/env bash
# Runs the web server, a Celery worker and Celery beat together until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=$(.venv/bin/python -c 'import environ; environ.Env.read_env(".env"); print(environ.Env().int("PORT", default=8000))')
export PORT
echo
echo "hanoi_infra is starting on http://127.0.0.1:${PORT}/  (Ctrl-C stops web, worker and beat)"
echo "API docs: http://127.0.0.1:${PORT}/api/docs/   Admin: http://127.0.0.1:${PORT}/admin/"
exec .venv/bin/honcho start -f Procfile
