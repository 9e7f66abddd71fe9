# hanoi_infra: two commands do everything on a fresh Debian/Ubuntu machine (root or sudo).
#   make run    set up, migrate, load reference and demo data, serve web + Celery worker + beat
#   make test   set up (with test tools and chromium), then the whole test suite
.PHONY: run test setup prepare lint format bench messages fuzz backup restore

PY := .venv/bin/python

run:
	bash scripts/setup.sh
	bash scripts/prepare.sh
	bash scripts/serve.sh

test:
	bash scripts/setup.sh --test
	$(PY) -m pytest $(PYTEST_ARGS)

setup:
	bash scripts/setup.sh --test

# schemathesis against the live test server, the full budget (make test runs 10 examples per operation)
fuzz:
	bash scripts/setup.sh --test
	FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-100} $(PY) -m pytest core/tests/test_fuzz.py -m fuzz $(PYTEST_ARGS)

prepare:
	bash scripts/prepare.sh

# backups/<timestamp>.dump (pg_dump -Fc of DATABASE_URL) + backups/<timestamp>.media.tar.gz (MEDIA_ROOT)
backup:
	$(PY) manage.py backup

# make restore FILE=backups/<timestamp>.dump [FORCE=1] [RESTORE_TARGET_DB=name]: refuses a
# non-empty database unless FORCE=1; RESTORE_TARGET_DB restores into that (new) database instead
restore:
	@test -n "$(FILE)" || { echo "usage: make restore FILE=backups/<timestamp>.dump [FORCE=1] [RESTORE_TARGET_DB=name]"; exit 2; }
	$(PY) manage.py restore "$(FILE)" $(if $(RESTORE_TARGET_DB),--target-db "$(RESTORE_TARGET_DB)") $(if $(filter 1 true yes,$(FORCE)),--force)

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format:
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

bench:
	bash scripts/setup.sh --test
	$(PY) -m bench

messages:
	$(PY) manage.py makemessages -l vi --no-obsolete --ignore=.venv --ignore=staticfiles
	$(PY) manage.py compilemessages -l vi --ignore=.venv
