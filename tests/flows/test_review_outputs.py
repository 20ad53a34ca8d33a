"""What analysts and review teams get from a real nightly run: exports, PRISMA counts, saved queries,
the analyst guide's SQL, and screening decisions that survive re-runs and record updates."""

import csv
import io
import os
import re
import subprocess
import sys

import duckdb

from helpers import FIXTURES, PROJECT, make_settings

from flows.nightly import nightly
from pipeline.cli import main
from pipeline.compare import evidence, stance
from pipeline.report import query as q
from pipeline.report.prisma import prisma_counts

GUIDE = PROJECT / "docs" / "analyst-guide.md"


def _ris_records(path) -> list[dict[str, list[str]]]:
    records, current = [], None
    for line in path.read_bytes().decode("utf-8").split("\r\n")[:-1]:
        tag, value = re.fullmatch(r"([A-Z][A-Z0-9])  - (.*)", line).groups()
        if tag == "TY":
            current = {}
        elif tag == "ER":
            records.append(current)
        else:
            current.setdefault(tag, []).append(value)
    return records


def _csv_rows(path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _example_params(db_path) -> dict[str, str]:
    con = duckdb.connect(str(db_path), read_only=True)
    claim_id = con.execute("SELECT article_claim_id FROM evidence_links WHERE stance = 'supports' "
                           "ORDER BY evidence_level LIMIT 1").fetchone()[0]
    con.close()
    return {"claim_id": claim_id, "design": "rct", "year": "2020"}


def test_a_fresh_run_writes_the_exports_and_every_saved_query_and_guide_query_runs(tmp_path, eutils_server,
                                                                                   monkeypatch):
    settings = make_settings(tmp_path, eutils_server.base_url)
    nightly(settings=settings)
    # the comparison (run in this process) keeps ~8 KB of features per literature claim while it runs: none is left
    cached = (stance._side, stance._claim_buckets, stance._evidence_buckets, evidence.safety_view,
              evidence.doubts_evidence, evidence.requires_human_evidence)
    assert [f.cache_info().currsize for f in cached] == [0] * len(cached)
    exports = tmp_path / "exports"
    assert sorted(p.name for p in exports.iterdir()) == ["prisma_counts.csv", "records.bib", "records.csv",
                                                         "records.ris"]
    ris = _ris_records(exports / "records.ris")
    assert len(ris) == 8 and {r["AN"][0] for r in ris} == {f"9000000{i}" for i in range(1, 9)}
    rct = next(r for r in ris if r["AN"] == ["90000001"])
    assert "design: Randomised controlled trial" in rct["KW"] and any(n.startswith("Backs article claim, supports")
                                                                        for n in rct["N1"])
    rows = {r["pmid"]: r for r in _csv_rows(exports / "records.csv")}
    assert len(rows) == 8 and rows["90000001"]["study_design"] == "rct" and int(rows["90000001"]["n_claims_supported"])
    assert rows["90000004"]["has_abstract"] == "false" and rows["90000008"]["is_retracted"] == "true"
    assert int(rows["90000008"]["n_claims_supported"]) == 0  # retracted records are never evidence
    assert (exports / "records.bib").read_text(encoding="utf-8").count("@article{") == 8

    con = duckdb.connect(str(settings.storage.db_path), read_only=True)
    counts = prisma_counts(con)
    run_id = con.execute("SELECT run_id FROM runs").fetchone()[0]
    assert prisma_counts(con, run_id).identified == 8
    con.close()
    (query,) = settings.pubmed.queries
    assert counts.identified_per_query == {query: 8} and counts.duplicates_removed == 0
    assert counts.records == 8 and counts.without_abstract == 1 and counts.retracted == 1
    assert counts.per_design["rct"] == 1 and counts.screening == {"unscreened": 8}
    assert "all runs,,7,without_abstract,,1" in (exports / "prisma_counts.csv").read_text()

    # every saved query runs on what a real run produced
    monkeypatch.setenv("EXOCLAIMS_DB", str(settings.storage.db_path))
    params = _example_params(settings.storage.db_path)
    for saved in q.saved_queries().values():
        args = [f"--param={p}={params[p]}" for p in saved.parameters]
        assert main(["query", saved.name, *args, "--format", "json"]) == 0, saved.name
    # and every SQL block of the analyst guide (reads through `exoclaims query`'s checks, the write on its own)
    blocks = re.findall(r"```sql\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 15
    for sql in blocks:
        used = {p: params[p] for p in q.parameter_names(sql)}
        if duckdb.extract_statements(sql)[0].type == duckdb.StatementType.SELECT:
            result = q.run_query(settings.storage.db_path, sql, used, wait_s=0)
            assert result.columns, sql
        else:
            con = duckdb.connect(str(settings.storage.db_path))
            con.execute(sql, used or None)
            con.close()

    # the CLI as a separate process, as an analyst runs it
    env = {**os.environ, "EXOCLAIMS_DB": str(settings.storage.db_path)}
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "query", "contradicted_assertions", "--format", "csv"],
                          cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    contradicted = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert contradicted and {r["verdict"] for r in contradicted} <= {"contradicted", "mixed"}
    assert list(contradicted[0]) == ["article_title", "verdict", "sentence", "n_contradicting_records",
                                     "strongest_contradicting_pmids", "n_supporting_records",
                                     "strongest_supporting_pmids", "best_design", "reason", "claim_id"]

    # the verdict queries list the strongest records per side with the full counts beside them
    saved = q.saved_queries()
    overview = q.run_query(settings.storage.db_path, saved["assertion_verdicts"].sql, wait_s=0)
    assert overview.columns == ("article_title", "verdict", "best_design", "n_supporting_records",
                                "n_contradicting_records", "strongest_pmids", "sentence", "reason", "claim_id")
    con = duckdb.connect(str(settings.storage.db_path), read_only=True)
    full = {claim_id: (set(supporting), set(contradicting)) for claim_id, supporting, contradicting in con.execute(
        "SELECT claim_id, supporting_pmids, contradicting_pmids FROM verdicts").fetchall()}
    con.close()
    assert len(overview.rows) == len(full)
    for row in map(dict, (zip(overview.columns, r) for r in overview.rows)):
        supporting, contradicting = full[row["claim_id"]]
        assert (row["n_supporting_records"], row["n_contradicting_records"]) == (len(supporting), len(contradicting))
        assert set(row["strongest_pmids"]) == supporting | contradicting  # all of them: fewer than 25 per side


def test_screening_survives_reruns_and_record_updates_and_prisma_counts_duplicates(tmp_path, eutils_server,
                                                                                   monkeypatch):
    settings = make_settings(tmp_path, eutils_server.base_url, overlap_days=100000,
                             queries=("exosomes AND hair", "extracellular vesicles AND alopecia"))
    nightly(settings=settings)
    db_path = settings.storage.db_path
    con = duckdb.connect(str(db_path), read_only=True)
    first = prisma_counts(con, con.execute("SELECT run_id FROM runs").fetchone()[0])
    con.close()
    assert first.identified == 16 and first.duplicates_removed == 8 and first.after_duplicates_removed == 8

    monkeypatch.setenv("EXOCLAIMS_DB", str(db_path))
    assert main(["screen", "90000001", "90000006", "include", "--reason", "human {evidence}", "--reviewer", "ana"]) == 0
    assert main(["screen", "90000007", "exclude", "--reason", "off topic"]) == 0
    con = duckdb.connect(str(db_path), read_only=True)
    decisions = con.execute("SELECT * FROM screening ORDER BY pmid").fetchall()
    con.close()

    counts = nightly(settings=settings)  # a re-run sees every record again
    assert counts.records_unchanged == 8
    xml = (FIXTURES / "pubmed" / "exosome_hair_set1.xml").read_bytes()
    eutils_server.add_xml(xml.replace(b"ADSC-Exos significantly increased hair density",
                                      b"ADSC-Exos did not increase hair density"))
    counts = nightly(settings=settings)  # an upstream correction rewrites 90000001 and its derived rows
    assert counts.records_updated == 1

    con = duckdb.connect(str(db_path), read_only=True)
    assert con.execute("SELECT * FROM screening ORDER BY pmid").fetchall() == decisions
    overall = prisma_counts(con)
    con.close()
    # three runs found the same 8 records with both queries: identified once per query, not per run
    assert overall.identified_per_query == {"exosomes AND hair": 8, "extracellular vesicles AND alopecia": 8}
    assert overall.duplicates_removed == 8 and overall.records == 8
    assert overall.screening == {"include": 2, "exclude": 1, "unscreened": 5}
    rows = {r["pmid"]: r for r in _csv_rows(tmp_path / "exports" / "records.csv")}
    assert rows["90000001"]["screening_decision"] == "include"
    assert rows["90000001"]["screening_reason"] == "human {evidence}"
    assert rows["90000007"]["screening_decision"] == "exclude" and rows["90000002"]["screening_decision"] == ""
    assert any("did not increase hair density" in c for c in [rows["90000001"]["abstract"]])
