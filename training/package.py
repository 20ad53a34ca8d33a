"""Assemble trained pipelines and package them as installable model packages under ``models/``.

    python -m training.package training/models models --version 0.1.0

Each package directory (``models/en_exoclaims_ner_bc5cdr`` ...) is a normal spaCy model package; the
project's ``pyproject.toml`` installs them as path dependencies, so ``spacy.load("en_exoclaims_...")``
works after ``uv sync``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import shutil
from pathlib import Path

import spacy

from training import gazetteer
from training.catalog import CORE_MODEL, NER_MODELS, SENTENCE_ROLES_MODEL, ModelSpec
from pipeline.nlp.sentence_roles import PRIORS_FILE

log = logging.getLogger(__name__)

AUTHOR = "exosome-claims contributors"
URL = "https://github.com/exosome-claims/exosome-claims"
SOURCES = {
    "en_exoclaims_ner_bc5cdr": ["BioCreative V CDR (MTL-Bioinformatics-2016 IOB copy)"],
    "en_exoclaims_ner_ncbi": ["NCBI-disease (MTL-Bioinformatics-2016 IOB copy)"],
    "en_exoclaims_ner_bionlp13cg": ["BioNLP 2013 Cancer Genetics (MTL-Bioinformatics-2016 IOB copy)"],
    "en_exoclaims_core": ["GENIA POS (MTL-Bioinformatics-2016 copy)", "UD English-EWT"],
    "en_exoclaims_sentence_roles": ["SciFact corpus: structured abstracts (S2ORC, ODC-By 1.0)"],
}


def size_mb(path: Path) -> float:
    """Megabytes of the files under ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def assemble_core(tagger_dir: Path, parser_dir: Path, out: Path) -> Path:
    """One pipeline with the GENIA tagger and the EWT parser (each brings its own tok2vec)."""
    nlp = spacy.load(tagger_dir)
    nlp.add_pipe("parser", source=spacy.load(parser_dir))
    tagger_meta = json.loads((tagger_dir / "meta.json").read_text())
    parser_meta = json.loads((parser_dir / "meta.json").read_text())
    nlp.meta["performance"] = {**parser_meta.get("performance", {}), **tagger_meta.get("performance", {})}
    nlp.to_disk(out)
    return out


def add_train_gazetteer(nlp, train_docbin: Path) -> None:
    """Put the training gazetteer (built from ``train_docbin`` only) right after the NER component."""
    if gazetteer.FACTORY in nlp.pipe_names:
        nlp.remove_pipe(gazetteer.FACTORY)
    component = nlp.add_pipe(gazetteer.FACTORY, after="ner",
                             config={**gazetteer.SHIPPED_SETTINGS, "labels": sorted(nlp.get_pipe("ner").labels)})
    component.set_data(gazetteer.build_gazetteer_from_docbin(train_docbin, nlp.vocab))


def package_model(model_dir: Path, spec: ModelSpec, version: str, dest: Path, extra_files: tuple[str, ...] = (),
                  gazetteer_train: Path | None = None) -> Path:
    """Write ``dest/<spec.name>``: a spaCy model package of ``model_dir`` with our metadata;
    ``extra_files`` of ``model_dir`` that spaCy does not know about are copied along. With
    ``gazetteer_train`` (a training DocBin) the NER model gets the training gazetteer, whose code ships
    inside the package."""
    nlp = spacy.load(model_dir)
    code_paths = []
    if gazetteer_train is not None:
        add_train_gazetteer(nlp, gazetteer_train)
        code_paths = [Path(gazetteer.__file__)]
    lang, _, short_name = spec.name.partition("_")
    meta = dict(nlp.meta)
    meta.update({"lang": lang, "name": short_name, "version": version, "description": spec.description,
                 "author": AUTHOR, "url": URL, "license": "CC BY 4.0 (corpus terms apply, see docs/models.md)",
                 "sources": [{"name": s} for s in SOURCES.get(spec.name, [])]})
    staging = dest / ".staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    nlp.meta = meta
    nlp.to_disk(staging / "model")
    for name in extra_files:
        shutil.copy(model_dir / name, staging / "model" / name)
    package = importlib.import_module("spacy.cli.package").package
    package(staging / "model", staging, name=short_name, version=version, create_sdist=False, force=True,
            silent=True, code_paths=code_paths)
    target = dest / spec.name
    shutil.rmtree(target, ignore_errors=True)
    shutil.move(str(staging / f"{spec.name}-{version}"), target)
    shutil.rmtree(staging)
    log.info("packaged %s %s into %s (%.1f MB)", spec.name, version, target, size_mb(target))
    return target


def package_all(trained: Path, dest: Path, version: str, corpus_dir: Path = Path("training/corpus")) -> list[Path]:
    out = []
    for spec in NER_MODELS:
        corpus = spec.name.rsplit("_", 1)[1]
        out.append(package_model(trained / f"ner_{corpus}" / "model-best", spec, version, dest,
                                 gazetteer_train=corpus_dir / corpus / "train.spacy"))
    core = assemble_core(trained / "tagger" / "model-best", trained / "parser" / "model-best", trained / "core")
    out.append(package_model(core, CORE_MODEL, version, dest))
    out.append(package_model(trained / "sentence_roles" / "model-best", SENTENCE_ROLES_MODEL, version, dest,
                             extra_files=(PRIORS_FILE,)))
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trained", type=Path, help="training output folder (training/models)")
    parser.add_argument("dest", type=Path, help="where the packages go (models)")
    parser.add_argument("--version", default="0.1.0")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for path in package_all(args.trained, args.dest, args.version):
        print(path)


if __name__ == "__main__":
    main()
