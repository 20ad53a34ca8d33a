# The two commands a new user needs: `make run` (the nightly job, now) and `make test`.
# Both install the locked environment first (uv, from uv.lock) into .venv.
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
PY := .venv/bin/python

.PHONY: install run serve test demo clean-data

install: .venv/.installed

.tools/bin/uv:
	python3 -m pip install --quiet --target .tools/lib uv
	mkdir -p .tools/bin && ln -sf ../lib/bin/uv .tools/bin/uv

.venv/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --extra test
	touch $@

run: install
	.venv/bin/exoclaims run

serve: install
	.venv/bin/exoclaims serve

test: install
	.venv/bin/python -m pytest

# The whole job against a loopback E-utilities server that serves the test fixtures (no network needed).
DEMO_PORT ?= 8765
demo: install
	.venv/bin/python -m pipeline.testing.loopback_eutils tests/fixtures/pubmed --port $(DEMO_PORT) & \
	  server=$$!; sleep 2; \
	  EXOCLAIMS_EUTILS_URL=http://127.0.0.1:$(DEMO_PORT)/entrez/eutils/ .venv/bin/exoclaims run; rc=$$?; \
	  kill $$server; exit $$rc

clean-data:
	rm -rf data/exoclaims.duckdb data/exoclaims.duckdb.wal data/raw
