"""Typed settings, read once from ``config/pipeline.toml`` with environment overrides."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from pydantic import SecretStr

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "pipeline.toml"
NCBI_EUTILS_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"


@dataclass(frozen=True)
class PubmedSettings:
    queries: tuple[str, ...]
    eutils_url: str = NCBI_EUTILS_URL
    tool: str = "exosome-claims"
    email: str = ""
    # A SecretStr prints and JSON-encodes as "**********": Prefect stores flow-run parameters (this
    # object, when a caller passes ``settings=``) in its database and shows them in its UI.
    api_key: SecretStr | None = field(default=None, repr=False)
    batch_size: int = 200
    back_window_days: int = 0
    overlap_days: int = 3
    max_ids_per_search: int = 9999
    timeout_s: float = 60.0
    max_attempts: int = 5
    backoff_s: float = 1.0
    task_retries: int = 1
    task_retry_delay_s: float = 30.0

    def __post_init__(self):
        if isinstance(self.api_key, str):  # callers may pass the key as a plain string
            object.__setattr__(self, "api_key", SecretStr(self.api_key) if self.api_key else None)

    @property
    def requests_per_second(self) -> float:
        """NCBI's limit: 3 requests/s without an API key, 10 with one."""
        return 10.0 if self.api_key else 3.0


@dataclass(frozen=True)
class FetchLimits:
    """Bounds on downloading one article URL, so a huge, endless or dripping page cannot stall a run."""

    max_bytes: int = 5_000_000  # decoded body; the download stops as soon as it is exceeded
    timeout_s: float = 30.0  # for the whole download (connect, redirects and body), not per read
    max_redirects: int = 5


@dataclass(frozen=True)
class ArticleSettings:
    directory: Path
    urls: tuple[str, ...] = ()
    fetch: FetchLimits = field(default_factory=FetchLimits)


@dataclass(frozen=True)
class NlpSettings:
    model: str = "blank:en"
    lexicon: Path = PROJECT_ROOT / "config" / "lexicon" / "concepts.jsonl"
    batch_size: int = 64
    ner_models: tuple[str, ...] = ()
    sentence_roles: str = ""  # sentence-role model for unstructured abstracts; "" = none
    claim_detector: bool = True  # the learned detector adds claims the rules miss in article sentences
    claim_detector_veto: float = 0.3  # below this P(checkable) the detector drops a claim the rules found; 0: never
    # at or above this P(checkable) a sentence is a checkable assertion; None: the threshold the detector was trained
    # with (its package's meta.json)
    claim_detector_threshold: float | None = None

    def __post_init__(self):
        if not 0.0 <= self.claim_detector_veto < 1.0:
            raise ValueError(f"[nlp] claim_detector_veto must be in [0, 1), not {self.claim_detector_veto}")
        if self.claim_detector_threshold is not None:
            if not 0.0 < self.claim_detector_threshold < 1.0:
                raise ValueError(f"[nlp] claim_detector_threshold must be in (0, 1), not "
                                 f"{self.claim_detector_threshold}")
            if self.claim_detector_veto > self.claim_detector_threshold:
                raise ValueError(f"[nlp] claim_detector_veto ({self.claim_detector_veto}) above "
                                 f"claim_detector_threshold ({self.claim_detector_threshold}) would drop the rules' "
                                 "claim on a sentence the detector calls checkable")


@dataclass(frozen=True)
class StorageSettings:
    db_path: Path
    archive_dir: Path


@dataclass(frozen=True)
class ExportSettings:
    directory: Path = PROJECT_ROOT / "data" / "exports"  # RIS, BibTeX, CSV and PRISMA counts after each run


@dataclass(frozen=True)
class ReportSettings:
    path: Path = PROJECT_ROOT / "data" / "reports" / "evidence-report.html"  # the static HTML evidence report


@dataclass(frozen=True)
class BulkSettings:
    """NLM's baseline and update files as a second source (pipeline/pubmed/bulk.py)."""

    directory: Path | None = None  # None = no bulk source
    topic: tuple[tuple[str, ...], ...] = ()  # term groups a kept record must all match (pipeline/pubmed/topic.py)


TASK_RUNNERS = ("processes", "threads", "dask")


@dataclass(frozen=True)
class ExecutionSettings:
    """How the NLP stage's batches run (docs/performance.md#execution)."""

    task_runner: str = "processes"  # a local process pool; "threads" = the flow's own process; "dask" = prefect-dask
    workers: int = 0  # processes, threads or local Dask workers; 0 = one per CPU core
    dask_address: str = ""  # an existing Dask scheduler ("tcp://host:8786"); "" = start a local cluster
    batch_docs: int = 200  # documents per NLP task

    @property
    def worker_count(self) -> int:
        return self.workers or os.cpu_count() or 1


@dataclass(frozen=True)
class EncoderSettings:
    """The sentence encoder (pipeline/nlp/encoder.py): embeddings for search and evidence retrieval."""

    package: str = "exoclaims_minilm"  # an installed ONNX model package
    threads: int = 0  # onnxruntime intra-op threads in the flow process; 0 = one per CPU core
    batch_size: int = 8  # texts per ONNX call (small batches were fastest on one core)
    chunk: int = 2048  # texts encoded and stored per transaction

    @property
    def thread_count(self) -> int:
        return self.threads or os.cpu_count() or 1


@dataclass(frozen=True)
class CompareSettings:
    """How evidence candidates are chosen for each article assertion (docs/analyst-guide.md)."""

    max_candidates: int = 30  # at most this many literature claims per assertion, the most similar first
    min_similarity: float = 0.55  # a literature claim sharing no concept is a candidate from this cosine up
    stance_model: str = "exoclaims_stance"  # the stance cross-encoder: an installed package, or a package's folder


@dataclass(frozen=True)
class ScheduleSettings:
    cron: str = "0 2 * * *"
    timezone: str = "local"


@dataclass(frozen=True)
class Settings:
    pubmed: PubmedSettings
    articles: ArticleSettings
    nlp: NlpSettings
    storage: StorageSettings
    schedule: ScheduleSettings
    exports: ExportSettings = field(default_factory=ExportSettings)
    report: ReportSettings = field(default_factory=ReportSettings)
    execution: ExecutionSettings = field(default_factory=ExecutionSettings)
    bulk: BulkSettings = field(default_factory=BulkSettings)
    encoder: EncoderSettings = field(default_factory=EncoderSettings)
    compare: CompareSettings = field(default_factory=CompareSettings)

    def with_overrides(self, **sections) -> "Settings":
        return replace(self, **sections)


def names_a_folder(model: str) -> bool:
    """Whether a model setting names a package's folder rather than an installed package: it holds a path
    separator (``models/candidate``, ``..\\candidate``); package names never do."""
    return "/" in model or "\\" in model


def _path(value: str | os.PathLike, base: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _optional_float(value: str | float | None, name: str) -> float | None:
    """A number from the file or the environment; absent or empty is None; anything else names the setting."""
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, not {value!r}") from None


def load_settings(path: str | os.PathLike | None = None, env: dict | None = None) -> Settings:
    """Read the TOML config at ``path`` (default ``config/pipeline.toml``) and apply env overrides.

    Relative paths in the file are resolved against the project root, so the pipeline behaves the
    same whatever the working directory is.
    """
    env = os.environ if env is None else env
    config_path = Path(path or env.get("EXOCLAIMS_CONFIG") or DEFAULT_CONFIG)
    with open(config_path, "rb") as fh:
        raw = tomllib.load(fh)
    base = PROJECT_ROOT

    pub = raw.get("pubmed", {})
    pubmed = PubmedSettings(
        queries=tuple(pub.get("queries", ())),
        eutils_url=env.get("EXOCLAIMS_EUTILS_URL") or pub.get("eutils_url", NCBI_EUTILS_URL),
        tool=pub.get("tool", "exosome-claims"),
        email=env.get("NCBI_EMAIL") or pub.get("email", ""),
        api_key=env.get("NCBI_API_KEY") or None,
        batch_size=int(pub.get("batch_size", 200)),
        back_window_days=int(pub.get("back_window_days", 0)),
        overlap_days=int(pub.get("overlap_days", 3)),
        max_ids_per_search=int(pub.get("max_ids_per_search", 9999)),
        timeout_s=float(pub.get("timeout_s", 60)),
        max_attempts=int(pub.get("max_attempts", 5)),
        backoff_s=float(pub.get("backoff_s", 1.0)),
        task_retries=int(pub.get("task_retries", 1)),
        task_retry_delay_s=float(pub.get("task_retry_delay_s", 30)),
    )
    if not pubmed.queries:
        raise ValueError(f"{config_path}: [pubmed] queries is empty")
    if pubmed.batch_size < 1:
        raise ValueError(f"{config_path}: [pubmed] batch_size must be >= 1")

    art = raw.get("articles", {})
    articles = ArticleSettings(
        directory=_path(env.get("EXOCLAIMS_ARTICLES") or art.get("directory", "data/articles"), base),
        urls=tuple(art.get("urls", ())),
        fetch=FetchLimits(
            max_bytes=int(art.get("max_page_bytes", FetchLimits.max_bytes)),
            timeout_s=float(art.get("fetch_timeout_s", FetchLimits.timeout_s)),
            max_redirects=int(art.get("max_redirects", FetchLimits.max_redirects)),
        ),
    )
    nlp_raw = raw.get("nlp", {})
    nlp = NlpSettings(
        model=env.get("EXOCLAIMS_MODEL") or nlp_raw.get("model", "blank:en"),
        lexicon=_path(nlp_raw.get("lexicon", "config/lexicon/concepts.jsonl"), base),
        batch_size=int(nlp_raw.get("batch_size", 64)),
        ner_models=tuple(m.strip() for m in env["EXOCLAIMS_NER_MODELS"].split(",") if m.strip())
        if "EXOCLAIMS_NER_MODELS" in env else tuple(nlp_raw.get("ner_models", ())),
        sentence_roles=env.get("EXOCLAIMS_SENTENCE_ROLES", nlp_raw.get("sentence_roles", "")),
        claim_detector=env.get("EXOCLAIMS_CLAIM_DETECTOR", str(nlp_raw.get("claim_detector", True))).lower()
        in ("1", "true", "yes"),
        claim_detector_veto=float(env.get("EXOCLAIMS_CLAIM_DETECTOR_VETO",
                                          nlp_raw.get("claim_detector_veto", NlpSettings.claim_detector_veto))),
        claim_detector_threshold=_optional_float(env.get("EXOCLAIMS_CLAIM_DETECTOR_THRESHOLD",
                                                         nlp_raw.get("claim_detector_threshold")),
                                                 "[nlp] claim_detector_threshold"),
    )
    sto = raw.get("storage", {})
    storage = StorageSettings(
        db_path=_path(env.get("EXOCLAIMS_DB") or sto.get("db_path", "data/exoclaims.duckdb"), Path.cwd()
                      if env.get("EXOCLAIMS_DB") else base),
        archive_dir=_path(env.get("EXOCLAIMS_ARCHIVE") or sto.get("archive_dir", "data/raw"), Path.cwd()
                          if env.get("EXOCLAIMS_ARCHIVE") else base),
    )
    sch = raw.get("schedule", {})
    schedule = ScheduleSettings(cron=sch.get("cron", "0 2 * * *"), timezone=sch.get("timezone", "local"))
    exp = raw.get("exports", {})
    exports = ExportSettings(
        directory=_path(env.get("EXOCLAIMS_EXPORTS") or exp.get("directory", "data/exports"), Path.cwd()
                        if env.get("EXOCLAIMS_EXPORTS") else base),
    )
    rep = raw.get("report", {})
    report = ReportSettings(
        path=_path(env.get("EXOCLAIMS_REPORT") or rep.get("path", "data/reports/evidence-report.html"), Path.cwd()
                   if env.get("EXOCLAIMS_REPORT") else base),
    )
    exe = raw.get("execution", {})
    execution = ExecutionSettings(
        task_runner=env.get("EXOCLAIMS_TASK_RUNNER") or exe.get("task_runner", "processes"),
        workers=int(exe.get("workers", 0)),
        dask_address=env.get("EXOCLAIMS_DASK_ADDRESS") or exe.get("dask_address", ""),
        batch_docs=int(exe.get("batch_docs", 200)),
    )
    if execution.task_runner not in TASK_RUNNERS:
        raise ValueError(f"{config_path}: [execution] task_runner must be one of {', '.join(TASK_RUNNERS)}, "
                         f"not {execution.task_runner!r}")
    if execution.batch_docs < 1 or execution.workers < 0:
        raise ValueError(f"{config_path}: [execution] batch_docs must be >= 1 and workers >= 0")
    blk = raw.get("bulk", {})
    bulk_dir = env.get("EXOCLAIMS_BULK_DIR") or blk.get("directory", "")
    bulk = BulkSettings(
        directory=_path(bulk_dir, Path.cwd() if env.get("EXOCLAIMS_BULK_DIR") else base) if bulk_dir else None,
        topic=tuple(tuple(group) for group in blk.get("topic", ())),
    )
    enc = raw.get("encoder", {})
    encoder = EncoderSettings(
        package=env.get("EXOCLAIMS_ENCODER") or enc.get("package", EncoderSettings.package),
        threads=int(enc.get("threads", EncoderSettings.threads)),
        batch_size=int(enc.get("batch_size", EncoderSettings.batch_size)),
        chunk=int(enc.get("chunk", EncoderSettings.chunk)),
    )
    if encoder.threads < 0 or encoder.batch_size < 1 or encoder.chunk < 1:
        raise ValueError(f"{config_path}: [encoder] threads must be >= 0, batch_size and chunk >= 1")
    cmp = raw.get("compare", {})
    stance_model = env.get("EXOCLAIMS_STANCE_MODEL") or cmp.get("stance_model", CompareSettings.stance_model)
    if names_a_folder(stance_model):  # relative to the working directory (env) or the project root (file)
        stance_model = str(_path(stance_model, Path.cwd() if env.get("EXOCLAIMS_STANCE_MODEL") else base))
    compare = CompareSettings(
        max_candidates=int(cmp.get("max_candidates", CompareSettings.max_candidates)),
        min_similarity=float(cmp.get("min_similarity", CompareSettings.min_similarity)),
        stance_model=stance_model,
    )
    if compare.max_candidates < 1 or not -1.0 <= compare.min_similarity <= 1.0:
        raise ValueError(f"{config_path}: [compare] max_candidates must be >= 1 and min_similarity in [-1, 1]")
    return Settings(pubmed=pubmed, articles=articles, nlp=nlp, storage=storage, schedule=schedule, exports=exports,
                    report=report, execution=execution, bulk=bulk, encoder=encoder, compare=compare)
