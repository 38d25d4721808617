# gisportal: the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PG_VERSION ?= 15
APT_PACKAGES := postgresql-$(PG_VERSION) postgresql-$(PG_VERSION)-postgis-3 gdal-bin libgeos-c1v5 libproj25 proj-bin binutils redis-server \
	fonts-noto-core fonts-dejavu-core poppler-utils gettext chromium
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
DB_NAME := gisportal
export DJANGO_SETTINGS_MODULE := gisportal.settings
export PYTHONDONTWRITEBYTECODE := 1
# Demo accounts and the demo city: on for make run/test, off unless asked for elsewhere.
export GISPORTAL_DEMO ?= 1
# DEBUG stays off; the secret key is generated once per checkout into var/secret_key.
ifndef SECRET_KEY
SECRET_KEY := $(shell mkdir -p var && { [ -s var/secret_key ] || (umask 077; $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))' > var/secret_key); } && cat var/secret_key)
endif
export SECRET_KEY

.PHONY: help run test stop deps venv db redis migrate demo serve bench cambridge clean-db style-spec web-assets

help:
	@echo "make run    install what is missing, start PostGIS under var/, migrate, load the demo city, serve on http://$(HOST):$(PORT)"
	@echo "make test   the same set-up without serving, then the whole test suite"
	@echo "make stop   stop the server, the local PostGIS cluster and the local Redis"
	@echo "make bench  run the benchmarks in bench/ (see bench/README.md)"

## ---- set-up shared by run and test ------------------------------------------------------
deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if ! $(PYTHON) -c "import ensurepip, venv" >/dev/null 2>&1; then missing="$$missing python3-venv"; fi; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing system packages:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	  else \
	    echo "Missing system packages. Run this, then make again:"; \
	    echo "  sudo apt-get install -y --no-install-recommends$$missing"; \
	    exit 1; \
	  fi; \
	fi

$(VENV)/.installed: pyproject.toml
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $@

venv: deps $(VENV)/.installed

db: deps
ifdef DATABASE_URL
	@echo "DATABASE_URL is set: using that database; the local cluster is not touched."
else
	@scripts/pg.sh start
	@scripts/pg.sh ensure-db $(DB_NAME)
endif

redis: deps
ifdef REDIS_URL
	@echo "REDIS_URL is set: using that Redis; the local one is not started."
else
	@scripts/redis.sh start
endif

migrate: venv db redis web-assets
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py ensure_demo_accounts
	$(PY) manage.py collectstatic --noinput -v 0

demo: migrate
	$(PY) manage.py load_demo_city --if-empty
	$(PY) manage.py ensure_demo_workflow

## ---- the two commands -------------------------------------------------------------------
run: demo
	@mkdir -p var/log var/run
	@if [ -f var/run/gunicorn.pid ] && kill -0 $$(cat var/run/gunicorn.pid) 2>/dev/null; then \
	  echo "Server already running (pid $$(cat var/run/gunicorn.pid)): reloading it"; \
	  kill -HUP $$(cat var/run/gunicorn.pid); \
	else \
	  $(VENV)/bin/gunicorn gisportal.wsgi:application --bind $(HOST):$(PORT) --workers 3 --timeout 120 \
	    --daemon --pid var/run/gunicorn.pid --error-logfile var/log/gunicorn.log --capture-output; \
	fi
	@$(PY) scripts/wait_healthy.py http://$(HOST):$(PORT)/healthz || { tail -n 20 var/log/gunicorn.log; exit 1; }
	@echo ""
	@echo "gisportal is serving on http://$(HOST):$(PORT)/"
	@echo "  health        http://$(HOST):$(PORT)/healthz"
	@echo "  API docs      http://$(HOST):$(PORT)/api/docs/"
	@echo "  parcels API   http://$(HOST):$(PORT)/api/parcels/"
	@echo "  plans API     http://$(HOST):$(PORT)/api/plans/"
	@echo "  vector tiles  http://$(HOST):$(PORT)/tiles/public.json   style: http://$(HOST):$(PORT)/styles/default.json"
	@echo "  WFS 2.0       http://$(HOST):$(PORT)/wfs?SERVICE=WFS&REQUEST=GetCapabilities"
	@echo "  OGC API       http://$(HOST):$(PORT)/ogc"
	@echo "  admin         http://$(HOST):$(PORT)/admin/"
	@echo "  log-ins (demo data only): admin, planner, surveyor, partner / password demo-password"
	@echo "  API token:    $(PY) manage.py api_token surveyor"
	@echo "  logs: var/log/gunicorn.log; stop with: make stop"

test: demo style-spec
	$(PY) -m pytest $(PYTEST_ARGS)

# The MapLibre style validator the style tests run (pinned in its package-lock.json). Without
# node/npm, or offline, the step says so and those tests skip with the reason.
STYLE_SPEC := layers/tiles/style_spec
style-spec: $(STYLE_SPEC)/node_modules/.installed
$(STYLE_SPEC)/node_modules/.installed: $(STYLE_SPEC)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  (cd $(STYLE_SPEC) && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) && touch $@ \
	  || echo "style-spec: npm ci failed; the style validation tests will skip"; \
	else echo "style-spec: npm not found; the style validation tests will skip"; fi

# The web map's assets: MapLibre GL JS and its RTL text plugin from npm (pinned in the lockfile),
# copied where the static files are collected from; the labels' glyph PBFs rendered from Debian's
# Noto fonts; the Arabic catalogue compiled. Debian's nodejs and npm are installed when node is missing.
WEB := gisportal/web
WEB_VENDOR := $(WEB)/static/web/vendor
web-assets: venv $(WEB_VENDOR)/.installed $(WEB)/glyphs/.built $(WEB)/locale/ar/LC_MESSAGES/django.mo
$(WEB_VENDOR)/.installed: $(WEB)/frontend/package-lock.json
	@if ! command -v npm >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm; \
	  else echo "npm is missing: sudo apt-get install -y --no-install-recommends nodejs npm"; exit 1; fi; \
	fi
	cd $(WEB)/frontend && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@mkdir -p $(WEB_VENDOR)
	cp $(WEB)/frontend/node_modules/maplibre-gl/dist/maplibre-gl.mjs \
	   $(WEB)/frontend/node_modules/maplibre-gl/dist/maplibre-gl-worker.mjs \
	   $(WEB)/frontend/node_modules/maplibre-gl/dist/maplibre-gl.css \
	   $(WEB)/frontend/node_modules/maplibre-gl/LICENSE.txt \
	   $(WEB)/frontend/node_modules/@mapbox/mapbox-gl-rtl-text/dist/mapbox-gl-rtl-text.js $(WEB_VENDOR)/
	@touch $@
$(WEB)/glyphs/.built: $(WEB)/glyphs.py
	$(PY) manage.py build_glyphs
	@touch $@
$(WEB)/locale/ar/LC_MESSAGES/django.mo: $(WEB)/locale/ar/LC_MESSAGES/django.po
	cd $(WEB) && ../../$(PY) ../../manage.py compilemessages -l ar -v 0

stop:
	@if [ -f var/run/gunicorn.pid ] && kill -0 $$(cat var/run/gunicorn.pid) 2>/dev/null; then \
	  kill $$(cat var/run/gunicorn.pid); echo "server stopped"; \
	  for i in $$(seq 1 50); do kill -0 $$(cat var/run/gunicorn.pid 2>/dev/null) 2>/dev/null || break; sleep 0.1; done; \
	fi
	@rm -f var/run/gunicorn.pid
ifndef DATABASE_URL
	@[ -x scripts/pg.sh ] && scripts/pg.sh stop && echo "database stopped"
endif
ifndef REDIS_URL
	@[ -x scripts/redis.sh ] && scripts/redis.sh stop && echo "redis stopped"
endif

cambridge: migrate
	$(PY) manage.py import_parcels ../shared/data/cambridge/cambridge.gpkg --layer parcels \
	    --municipality CAM --create-municipality --name Cambridge --code-field id --map plan_no=MAP --map parcel_no=LOT
	$(PY) manage.py import_layer street_rows ../shared/data/cambridge/cambridge.gpkg --layer road_polygons --municipality CAM
	$(PY) manage.py import_layer streets ../shared/data/cambridge/cambridge.gpkg --layer street_centerlines --municipality CAM
	$(PY) manage.py import_layer zoning ../shared/data/cambridge/cambridge.gpkg --layer zoning_districts --municipality CAM
	$(PY) manage.py import_layer blocks ../shared/data/cambridge/cambridge.gpkg --layer blocks --municipality CAM

bench: demo
	$(PY) bench/run_all.py

clean-db: stop
	rm -rf var/pgdata
