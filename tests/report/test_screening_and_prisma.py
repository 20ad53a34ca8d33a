"""Screening decisions outlive re-runs, updates and deletions; PRISMA counts per run and overall."""

import dataclasses

import duckdb
import pytest

from pipeline.cli import main
from pipeline.report.prisma import prisma_counts, prisma_csv
from pipeline.report.screening import ScreeningError, read_decisions_csv, record_decisions, ScreeningDecision
from pipeline.store import db

from conftest import QUERY_A, QUERY_B, fixture_records, load


def _read(path, sql):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_prisma_counts_of_two_overlapping_queries(store):
    con = duckdb.connect(str(store), read_only=True)
    overall = prisma_counts(con)
    run = prisma_counts(con, "20260101T020000-aaaaaa")
    nothing = prisma_counts(con, "no-such-run")
    text = prisma_csv(con)
    con.close()
    assert overall.identified_per_query == {QUERY_A: 8, QUERY_B: 3}
    assert overall.identified == 11 and overall.duplicates_removed == 3 and overall.after_duplicates_removed == 8
    assert overall.not_retrieved == 0 and overall.records == 8
    assert overall.without_abstract == 1 and overall.retracted == 1
    assert sum(overall.per_design.values()) == 8 and overall.per_design["animal"] == 2
    assert overall.screening == {"unscreened": 8}
    assert dataclasses.replace(run, run_id=None) == overall
    assert nothing.identified == 0 and nothing.records == 0
    assert text.splitlines()[0] == "scope,run_started_at,step,measure,detail,records"
    assert "all runs,,3,duplicates_removed,,3" in text


def test_overall_counts_do_not_double_count_the_overlap_window_and_show_what_was_not_retrieved(store):
    con = db.connect(store)
    records = fixture_records()
    # the next run's overlap finds two records again, one new PMID that failed to fetch, and one deletion
    load(con, "20260103T020000-cccccc", records[:2], {QUERY_A: [records[0].pmid, records[1].pmid, "99999999"]},
         deleted=[records[7].pmid])
    overall = prisma_counts(con)
    second = prisma_counts(con, "20260103T020000-cccccc")
    con.close()
    assert overall.identified_per_query == {QUERY_A: 9, QUERY_B: 3}
    assert overall.after_duplicates_removed == 9 and overall.not_retrieved == 2 and overall.records == 7
    assert second.identified == 3 and second.duplicates_removed == 0 and second.not_retrieved == 1
    assert second.records == 2


def test_decisions_survive_reloads_updates_and_deletions(store):
    con = db.connect(store)
    record_decisions(con, [ScreeningDecision("90000001", "include", "RCT", "ana"),
                           ScreeningDecision("90000008", "exclude", "retracted", "ana"),
                           ScreeningDecision("90000002", "maybe")])
    before = con.execute("SELECT * FROM screening ORDER BY pmid").fetchall()
    records = fixture_records()
    load(con, "r2", records, {QUERY_A: [r.pmid for r in records]})  # a re-run: nothing changes
    revised = [dataclasses.replace(r, title=r.title + " (corrected)") if r.pmid == "90000001" else r
               for r in records]
    counts = load(con, "r3", revised)  # an upstream correction rewrites the record
    assert counts.records_updated == 1
    load(con, "r4", [], deleted=["90000008"])  # and a deletion removes one
    assert con.execute("SELECT * FROM screening ORDER BY pmid").fetchall() == before
    status = dict(con.execute("SELECT pmid, orphaned FROM screening_status WHERE decision IS NOT NULL").fetchall())
    assert status == {"90000001": False, "90000002": False, "90000008": True}
    assert prisma_counts(con).screening == {"include": 1, "maybe": 1, "unscreened": 5}
    con.close()


def test_unknown_pmids_and_bad_decisions_record_nothing(store):
    con = db.connect(store)
    with pytest.raises(ScreeningError, match="not stored records: 12345"):
        record_decisions(con, [ScreeningDecision("90000001", "include"), ScreeningDecision("12345", "include")])
    with pytest.raises(ScreeningError, match="not a screening decision"):
        record_decisions(con, [ScreeningDecision("90000001", "perhaps")])
    assert con.execute("SELECT count(*) FROM screening").fetchone()[0] == 0
    record_decisions(con, [ScreeningDecision("12345", "exclude")], allow_unknown=True)
    con.close()


def test_screen_cli_records_clears_and_imports_a_filled_in_export(store, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("EXOCLAIMS_DB", str(store))
    assert main(["screen", "90000001", "Include", "--reason", "RCT", "--reviewer", "ana"]) == 0
    assert main(["screen", "90000001", "exclude", "--reason", "changed my mind", "--reviewer", "bo"]) == 0
    assert _read(store, "SELECT decision, reason, reviewer FROM screening") == [("exclude", "changed my mind", "bo")]
    assert main(["screen", "90000001", "clear"]) == 0
    assert _read(store, "SELECT count(*) FROM screening") == [(0,)]
    assert main(["screen", "90000001"]) == 1
    assert "usage: exoclaims screen" in capsys.readouterr().err
    # an analyst fills in the screening column of a copy of records.csv in a spreadsheet
    assert main(["export", "--format", "csv", "--out", str(tmp_path / "records.csv")]) == 0
    lines = (tmp_path / "records.csv").read_bytes().decode("utf-8").split("\r\n")
    import csv
    import io
    rows = list(csv.DictReader(io.StringIO("\r\n".join(lines), newline="")))
    for row in rows:
        row["screening_decision"] = {"90000001": "included", "90000007": "Excluded", "90000002": ""}.get(
            row["pmid"], "")
        row["screening_reason"] = "off topic; \"cancer\"" if row["pmid"] == "90000007" else ""
    with open(tmp_path / "filled.csv", "w", encoding="utf-8-sig", newline="") as fh:  # Excel writes a BOM
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert main(["screen", "--from-csv", str(tmp_path / "filled.csv"), "--reviewer", "cy"]) == 0
    assert _read(store, "SELECT pmid, decision, reason, reviewer FROM screening ORDER BY pmid") == [
        ("90000001", "include", None, "cy"), ("90000007", "exclude", 'off topic; "cancer"', "cy")]
    rows[0]["screening_decision"] = "yes please"
    with open(tmp_path / "bad.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(ScreeningError, match=r"bad.csv, row 2: 'yes please' is not a screening decision"):
        read_decisions_csv(tmp_path / "bad.csv")
