# Two commands: `make run` (set up and serve the embedded default) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-dev migrate serve worker beat lint bench-catalog clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip wheel

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(BIN)/python manage.py migrate --noinput

## run: install, migrate, seed a demo catalog with playable demo audio and train a first model if there are none, serve
## HTTP + WebSocket on $(HOST):$(PORT)
run: migrate
	$(BIN)/python manage.py seed_demo --if-empty --listeners 1000
	$(BIN)/python manage.py seed_demo_audio --if-empty
	$(BIN)/python manage.py train_model --if-none
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@echo "Audotics on http://$(HOST):$(PORT)/  (API docs: /api/docs/, admin: /admin/)"
	$(BIN)/daphne -v 0 -b $(HOST) -p $(PORT) --ping-interval 20 --ping-timeout 30 audotics.asgi:application

## test: the whole suite (SQLite by default; PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set)
test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

worker: install
	$(BIN)/celery -A audotics worker --loglevel INFO

beat: install
	$(BIN)/celery -A audotics beat --loglevel INFO

lint: install-dev
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var
