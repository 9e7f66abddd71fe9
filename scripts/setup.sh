#!/usr/bin/env bash
# Prepares a Debian/Ubuntu machine for hanoi_infra, idempotently: system packages, PostgreSQL +
# PostGIS and Redis (started if stopped), the virtualenv with pinned requirements, .env, the
# database with the postgis extension.
#   scripts/setup.sh            what `make run` needs
#   scripts/setup.sh --test     also test tools and Debian's chromium for the browser tests
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_TESTS=0
[ "${1:-}" = "--test" ] && WITH_TESTS=1
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
log() { printf '\033[1;34m==> %s\033[0m\n' "$*"; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# --- System packages -------------------------------------------------------------------------
apt_updated=0
apt_install() {
  local missing=()
  for p in "$@"; do installed "$p" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "Installing ${missing[*]}"
  if [ "$apt_updated" -eq 0 ]; then $SUDO apt-get update -q; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
}

apt_install postgresql postgresql-contrib postgresql-client redis-server redis-tools gdal-bin python3-venv gettext
PG_MAJOR=$(ls /usr/lib/postgresql | sort -n | tail -1)
apt_install "postgresql-${PG_MAJOR}-postgis-3" "postgresql-${PG_MAJOR}-postgis-3-scripts"
if [ "$WITH_TESTS" -eq 1 ]; then
  apt_install chromium fonts-dejavu-core
fi

# --- Services --------------------------------------------------------------------------------
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  log "Starting PostgreSQL ${PG_MAJOR}"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$PG_MAJOR" main start || $SUDO service postgresql start
  for _ in $(seq 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  pg_isready -h 127.0.0.1 -p 5432 || { echo "PostgreSQL did not start" >&2; exit 1; }
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  log "Starting Redis"
  $SUDO mkdir -p /var/lib/redis /var/log/redis
  $SUDO redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/hanoi_infra.log
  for _ in $(seq 20); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.5; done
  redis-cli -h 127.0.0.1 ping >/dev/null || { echo "Redis did not start" >&2; exit 1; }
fi

# --- Python ----------------------------------------------------------------------------------
PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "Python 3.11 or newer is needed (found $("$PYTHON" --version))" >&2; exit 1; }
[ -x .venv/bin/python ] || { log "Creating .venv"; "$PYTHON" -m venv .venv; }
reqs=requirements.txt
[ "$WITH_TESTS" -eq 1 ] && reqs=requirements-dev.txt
stamp=".venv/.installed-$(cat requirements.txt "$reqs" | sha256sum | cut -c1-16)-$WITH_TESTS"
if [ ! -f "$stamp" ]; then
  log "Installing Python packages from $reqs"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r "$reqs"
  .venv/bin/pip check
  touch "$stamp"
fi

# --- Settings and database -----------------------------------------------------------------------
if [ ! -f .env ]; then
  log "Writing .env from .env.example"
  key=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')
  sed "s|^SECRET_KEY=.*|SECRET_KEY=${key}|" .env.example > .env
fi
if ! .venv/bin/python scripts/ensure_database.py; then
  # No password-less TCP access for "postgres" (a stock Debian install asks for one): create our own
  # superuser role through the local socket (superuser: tests create databases with PostGIS).
  log "Creating PostgreSQL role hanoi_infra"
  $SUDO runuser -u postgres -- psql -q -c \
    "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='hanoi_infra') THEN
       CREATE ROLE hanoi_infra LOGIN SUPERUSER PASSWORD 'hanoi_infra'; END IF; END\$\$;"
  sed -i 's|^DATABASE_URL=.*|DATABASE_URL=postgis://hanoi_infra:hanoi_infra@127.0.0.1:5432/hanoi_infra|' .env
  .venv/bin/python scripts/ensure_database.py
fi
