"""Read-only SQL on the pipeline's DuckDB file, safe to use while a nightly run is writing.

DuckDB lets one process open a file read-write *or* any number of processes open it read-only, never
both (https://duckdb.org/docs/current/connect/concurrency): whoever opens second gets a lock error at
once, there is no built-in waiting and no way to read a file another process is writing. A nightly run
opens the file read-write stage by stage and closes it in between (the NLP stage runs with the file
closed), so a reader that finds it locked waits, says so on stderr, and retries until the stage ends or
its ``--wait`` runs out. It then sees only what committed runs wrote, never half of a load.

The other direction matters as much: while a reader has the file open a run's next stage cannot open it
and fails. So a query holds the file only while DuckDB computes: the whole result is fetched and the file
closed before anything is printed or written.

Only SELECT-like statements are run (SELECT, WITH, FROM, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN, PRAGMA),
one per call, on a read-only connection; anything else is refused before the file is opened.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import re
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, TypeVar

import duckdb

from pipeline.config import PROJECT_ROOT
from pipeline.store import locking

SAVED_QUERIES_DIR = PROJECT_ROOT / "config" / "queries"
READ_STATEMENTS = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN, duckdb.StatementType.PRAGMA}
FORMATS = ("table", "csv", "json", "parquet")
EXIT_BUSY = 75  # EX_TEMPFAIL: the file stayed locked; try again later

T = TypeVar("T")


class QueryError(RuntimeError):
    """A problem the user can fix: a refused statement, a missing parameter, an SQL error."""


class DatabaseBusy(QueryError):
    """The file stayed locked by another process for longer than the caller wanted to wait."""


@dataclass(frozen=True)
class QueryResult:
    columns: tuple[str, ...]
    types: tuple[str, ...]
    rows: list[tuple]


@dataclass(frozen=True)
class SavedQuery:
    name: str
    path: Path
    question: str  # the first ``-- `` line
    sql: str

    @property
    def parameters(self) -> list[str]:
        return parameter_names(self.sql)


# -- opening the file -------------------------------------------------------------------------------

def wait_for_unlock(open_fn: Callable[[], T], path: Path | str, wait_s: float,
                    notify: Callable[[str], None] | None = None, poll_s: float = 0.5) -> T:
    """:func:`pipeline.store.locking.wait_for_unlock` for the command line: waits are announced on
    stderr, a timeout is a :class:`DatabaseBusy` (exit status ``EXIT_BUSY``) that says to pass a longer --wait."""
    notify = notify or (lambda line: print(line, file=sys.stderr, flush=True))
    try:
        return locking.wait_for_unlock(open_fn, path, wait_s, notify, poll_s, limit_name="--wait")
    except locking.DatabaseBusy as exc:
        raise DatabaseBusy(f"{exc}, or pass a longer --wait") from exc


def open_read_only(path: Path | str, wait_s: float = 120,
                   notify: Callable[[str], None] | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection, waiting for a writer to let go of the file (see the module docstring)."""
    path = Path(path)
    if not path.exists():
        raise QueryError(f"no database at {path}: run `exoclaims run` first (or set EXOCLAIMS_DB)")
    return wait_for_unlock(lambda: duckdb.connect(str(path), read_only=True), path, wait_s, notify)


# -- checking and running statements ----------------------------------------------------------------

_STRINGS_AND_COMMENTS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.S)
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def parameter_names(sql: str) -> list[str]:
    """The ``$name`` parameters a statement uses, in order of first use (not those inside strings or comments)."""
    return list(dict.fromkeys(_PARAM.findall(_STRINGS_AND_COMMENTS.sub(" ", sql))))


def check_read_only(sql: str) -> duckdb.StatementType:
    """Refuse anything but one SELECT-like statement, before the database is opened."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(f"SQL does not parse: {exc}") from exc
    if not statements:
        raise QueryError("no SQL statement given")
    if len(statements) > 1:
        raise QueryError(f"one statement at a time, please ({len(statements)} given)")
    kind = statements[0].type
    if kind not in READ_STATEMENTS:
        name = str(kind).rsplit(".", 1)[-1]
        raise QueryError(f"only reads: {name} statements are refused. To record screening "
                         "decisions use `exoclaims screen`; anything else that writes belongs in the pipeline.")
    return kind


def parse_params(pairs: Iterable[str]) -> dict[str, str]:
    """``["design=rct", "year=2021"]`` → a dict; values stay strings (DuckDB casts them where the SQL
    compares them with a typed column, e.g. ``pub_year >= $year``)."""
    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip().lstrip("$")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise QueryError(f"--param takes NAME=VALUE, not {pair!r}")
        params[name] = value
    return params


def _bind(sql: str, params: dict[str, str]) -> dict[str, str] | None:
    wanted = parameter_names(sql)
    missing = [p for p in wanted if p not in params]
    if missing:
        raise QueryError("this query needs " + " ".join(f"--param {p}=VALUE" for p in missing))
    extra = [p for p in params if p not in wanted]
    if extra:
        raise QueryError(f"this query has no parameter {', '.join('$' + p for p in extra)}"
                         + (f" (it takes {', '.join('$' + p for p in wanted)})" if wanted else ""))
    return params or None


def _schema_hint(con: duckdb.DuckDBPyConnection) -> str:
    from pipeline.store.migrations import MIGRATIONS

    try:
        version = con.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] or 0
    except duckdb.Error:
        return ""
    latest = max(v for v, _, _ in MIGRATIONS)
    if version < latest:
        return (f" (this file has schema version {version}, the pipeline {latest}: the next `exoclaims run` "
                "upgrades it)")
    return ""


def _execute(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, str] | None):
    try:
        return con.execute(sql, params)
    except duckdb.CatalogException as exc:
        raise QueryError(f"{exc}{_schema_hint(con)}") from exc
    except duckdb.Error as exc:
        raise QueryError(str(exc)) from exc


def run_query(path: Path | str, sql: str, params: dict[str, str] | None = None, wait_s: float = 120,
              notify: Callable[[str], None] | None = None) -> QueryResult:
    """Run one read-only statement and return its whole result; the file is closed on return."""
    check_read_only(sql)
    bound = _bind(sql, params or {})
    con = open_read_only(path, wait_s, notify)
    try:
        cursor = _execute(con, sql, bound)
        description = cursor.description or []
        rows = cursor.fetchall()
    finally:
        con.close()
    return QueryResult(tuple(d[0] for d in description), tuple(str(d[1]) for d in description), rows)


def query_to_parquet(path: Path | str, sql: str, out: Path | str, params: dict[str, str] | None = None,
                     wait_s: float = 120, notify: Callable[[str], None] | None = None) -> int:
    """Write a query's result to a Parquet file with DuckDB's own writer (types kept); returns the rows.

    Written to a temporary name and renamed, so a reader never sees half a file."""
    if check_read_only(sql) != duckdb.StatementType.SELECT:
        raise QueryError("--format parquet needs a SELECT statement")
    bound = _bind(sql, params or {})
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.tmp")
    literal = "'" + str(tmp).replace("'", "''") + "'"
    body = sql.strip().rstrip(";")
    con = open_read_only(path, wait_s, notify)
    try:
        # the newline keeps a trailing "-- comment" in the user's SQL from swallowing the parenthesis
        _execute(con, f"COPY (\n{body}\n) TO {literal} (FORMAT parquet)", bound)
        rows = con.execute(f"SELECT count(*) FROM read_parquet({literal})").fetchone()[0]
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    tmp.replace(out)
    return rows


# -- saved queries ---------------------------------------------------------------------------------

def saved_queries(directory: Path = SAVED_QUERIES_DIR) -> dict[str, SavedQuery]:
    """``config/queries/<name>.sql``; the first ``-- `` line says which question the query answers."""
    queries = {}
    for path in sorted(Path(directory).glob("*.sql")):
        sql = path.read_text(encoding="utf-8")
        first = next((line for line in sql.splitlines() if line.strip()), "")
        question = first.strip()[2:].strip() if first.strip().startswith("--") else ""
        queries[path.stem] = SavedQuery(path.stem, path, question, sql)
    return queries


def resolve_saved(name: str, directory: Path = SAVED_QUERIES_DIR) -> SavedQuery:
    queries = saved_queries(directory)
    if name not in queries:
        raise QueryError(f"no saved query {name!r} in {directory}; `exoclaims query --list` shows them: "
                         + ", ".join(queries))
    return queries[name]


# -- output ----------------------------------------------------------------------------------------

def _plain(value) -> str:
    """One cell as text for tables and CSV: lists joined with '; ', nested values as JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        if all(not isinstance(v, (list, tuple, dict)) for v in value):
            return "; ".join(_plain(v) for v in value)
        return json.dumps(value, default=_json_default, ensure_ascii=False)
    if isinstance(value, dict):
        return json.dumps(value, default=_json_default, ensure_ascii=False)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _json_default(value):
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    return str(value)


def format_table(result: QueryResult, max_width: int = 60) -> str:
    """Aligned columns; a cell longer than ``max_width`` is cut with '…', line breaks shown as '⏎'."""
    def cell(value) -> str:
        text = _plain(value).replace("\r\n", "⏎").replace("\n", "⏎").replace("\t", " ")
        return text if len(text) <= max_width else text[:max(max_width - 1, 1)] + "…"

    header = list(result.columns)
    body = [[cell(v) for v in row] for row in result.rows]
    numeric = [t.split("(")[0] in {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                                   "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE", "DECIMAL"} for t in result.types]
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric)).rstrip()

    lines = [line(header), "  ".join("-" * w for w in widths)]
    lines += [line(r) for r in body]
    lines.append(f"({len(body)} row{'s' if len(body) != 1 else ''})")
    return "\n".join(lines) + "\n"


def format_csv(result: QueryResult) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(result.columns)
    writer.writerows([_plain(v) for v in row] for row in result.rows)
    return buffer.getvalue()


def format_json(result: QueryResult) -> str:
    """A list of objects; JSON-typed columns are parsed, not left as strings."""
    is_json = [t == "JSON" for t in result.types]

    def value(v, parse: bool):
        if parse and isinstance(v, str):
            try:
                return json.loads(v)
            except ValueError:
                return v
        return v

    objects = [{c: value(v, p) for c, v, p in zip(result.columns, row, is_json)} for row in result.rows]
    return json.dumps(objects, default=_json_default, ensure_ascii=False, indent=2) + "\n"


def render(result: QueryResult, fmt: str, max_width: int = 60) -> str:
    if fmt == "table":
        return format_table(result, max_width)
    if fmt == "csv":
        return format_csv(result)
    if fmt == "json":
        return format_json(result)
    raise QueryError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
