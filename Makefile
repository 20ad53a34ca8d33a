# The two commands a new user needs: `make run` (the nightly job, now) and `make test`.
# Both install the locked environment first (uv, from uv.lock) into .venv.
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
PY := .venv/bin/python

.PHONY: install run serve test models clean-data

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

clean-data:
	rm -rf data/exoclaims.duckdb data/exoclaims.duckdb.wal data/raw
