# hanoi_infra: two commands do everything on a fresh Debian/Ubuntu machine (root or sudo).
#   make run    set up, migrate, load reference and demo data, serve web + Celery worker + beat
#   make test   set up (with test tools and chromium), then the whole test suite
.PHONY: run test setup prepare lint format bench messages

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

prepare:
	bash scripts/prepare.sh

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
