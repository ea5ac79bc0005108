# Outlet: `make demo` runs the site with demo content; `make test` runs the whole suite.
# Both start from nothing: they create the virtualenv and install what they need.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: help install demo run migrate test test-fast lint format check bench clean

help:
	@echo "make demo       set up, load demo content and serve on http://$(HOST):$(PORT)/"
	@echo "make test       the whole suite (SQLite; PostgreSQL when DATABASE_URL is set)"
	@echo "make test-fast  the suite without the real-browser tests"
	@echo "make lint       ruff, mypy, Django's system checks and the migrations check"
	@echo "make bench      page and sending throughput against ceilings (see bench/README.md)"

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --no-input

# The site, the task worker (sends email) and the scheduler (publishes scheduled issues) in one
# shell, so that the trap stops the two background processes whenever runserver exits. Debug is
# off, as readers meet the site (its own 404 and 500 pages); links in every email name this
# PORT; the workers log only warnings, and the logins come last, after everything has started.
DEMO_ENV := DEBUG=false WAGTAILADMIN_BASE_URL=http://$(HOST):$(PORT)

demo: migrate
	@loaded="$$($(BIN)/python manage.py load_demo_content --create-admin --hostname $(HOST) --port $(PORT))" || exit 1; \
	echo "$$loaded" | grep -v -e '^Admin login' -e '^Role logins'; \
	$(DEMO_ENV) $(BIN)/python manage.py db_worker --no-reload & worker=$$!; \
	$(DEMO_ENV) $(BIN)/python manage.py run_scheduler & scheduler=$$!; \
	trap 'kill $$worker $$scheduler 2>/dev/null; wait $$worker $$scheduler 2>/dev/null' EXIT; \
	trap 'exit 130' INT TERM; \
	echo; echo "Serving http://$(HOST):$(PORT)/ beside the task worker and the scheduler; email"; \
	echo "goes to files in var/outbox/. Ctrl-C stops all three."; \
	echo "$$loaded" | grep -e '^Admin login' -e '^Role logins'; echo; \
	$(DEMO_ENV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

run: migrate
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	DJANGO_SETTINGS_MODULE=outlet.settings.test $(BIN)/python manage.py check
	DJANGO_SETTINGS_MODULE=outlet.settings.test $(BIN)/python manage.py makemigrations --check --dry-run

test: lint
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

test-fast: lint
	$(BIN)/pytest -n 2 -m "not browser" $(PYTEST_ARGS)

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python bench/article_page.py && $(BIN)/python bench/send.py

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache .mypy_cache
