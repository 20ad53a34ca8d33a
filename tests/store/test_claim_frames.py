"""Migration 9: claim frames are stored with the comparison, verdicts carry certainty and key PMIDs."""

from pipeline.compare.comparison import Comparison
from pipeline.compare.frames import assertion_frame
from pipeline.compare.verdicts import ClaimVerdict
from pipeline.records import Claim
from pipeline.store import comparison, db


def test_frames_certainty_and_key_pmids_are_stored_and_shown_in_the_verdicts_view(tmp_path):
    con = db.connect(tmp_path / "x.duckdb")
    claim = Claim("c1", "article", "001", 3, "Exosomes can promote hair growth in patients.", "efficacy", "affirmed",
                  "asserted", "MESH:D055354", "EXO:hair_growth", "increase")
    con.execute("INSERT INTO claims (claim_id, source, doc_id, sentence_idx, sentence, claim_type, polarity, certainty,"
                " intervention, outcome, direction) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [claim.claim_id, claim.source, claim.doc_id, claim.sentence_idx, claim.sentence, claim.claim_type,
                 claim.polarity, claim.certainty, claim.intervention, claim.outcome, claim.direction])
    verdict = ClaimVerdict("c1", "mixed", 3, "non_randomised_clinical", 2, 1, 0, ("39174804",), ("90000034",),
                           "supported by ...; 1 review calls the human evidence lacking (PMID 90000034) → mixed, low "
                           "certainty", "low", ("39174804", "90000034"))
    frame = assertion_frame(claim)
    comparison.write_comparison(con, Comparison((), (verdict,), (), {"c1": frame}), "fingerprint")
    row = con.execute("SELECT verdict, certainty, certainty_of_evidence, key_pmids FROM verdicts").fetchone()
    assert row == ("mixed", "asserted", "low", ["39174804", "90000034"])  # the claim's certainty is kept as it was
    stored = con.execute("SELECT source, checkable, outcomes, population, intervention, strength FROM claim_frames"
                         ).fetchone()
    assert stored == ("article", True, ["hair_growth"], "people", "exosomes", "asserted")
    # the next comparison replaces them
    comparison.write_comparison(con, Comparison((), (), (), {}), "fingerprint 2")
    assert con.execute("SELECT count(*) FROM claim_frames").fetchone()[0] == 0
    con.close()


def test_the_statement_kind_is_stored_and_article_headings_are_read_back(tmp_path):
    con = db.connect(tmp_path / "x.duckdb")
    claim = Claim("c2", "article", "001", 4, "At present, no exosome product has FDA approval.", "regulatory",
                  "negated", "asserted", "MESH:D055354", None, "none")
    comparison.write_comparison(con, Comparison((), (), (), {"c2": assertion_frame(claim)}), "fingerprint")
    assert con.execute("SELECT statement FROM claim_frames WHERE claim_id = 'c2'").fetchone() == ("approval",)
    con.executemany("INSERT INTO sentences (source, doc_id, sentence_idx, text) VALUES ('article', '001', ?, ?)",
                    [(0, "Restoring Hair with Medication, PRP and Exosomes"), (1, "Each part is outlined below."),
                     (2, "PRP (platelet-rich plasma)"), (3, "It helps most in early androgenetic alopecia or thinning.")])
    assert comparison.article_headings(con) == {
        "001": ((0, "Restoring Hair with Medication, PRP and Exosomes"), (2, "PRP (platelet-rich plasma)"))}
    # every line, not only headings and claims, tells what the article is about (comparison.article_topic)
    assert comparison.article_sentences(con) == {"001": (
        "Restoring Hair with Medication, PRP and Exosomes", "Each part is outlined below.",
        "PRP (platelet-rich plasma)", "It helps most in early androgenetic alopecia or thinning.")}
    assert comparison.read_inputs(con, "none").sentences == comparison.article_sentences(con)
    con.close()


def test_the_form_of_hair_loss_is_stored_and_an_older_database_gets_its_column(tmp_path):
    path = tmp_path / "x.duckdb"
    con = db.connect(path)
    # a database written before migration 12: no condition column, and the migration not recorded
    con.execute("ALTER TABLE claim_frames DROP COLUMN condition")
    con.execute("DELETE FROM schema_migrations WHERE version = 12")
    con.close()
    con = db.connect(path)
    claim = Claim("c3", "article", "001", 5, "Exosomes calm the immune attack in alopecia areata.", "mechanism",
                  "affirmed", "asserted", "MESH:D055354", "MESH:D000506", "decrease")
    comparison.write_comparison(con, Comparison((), (), (), {"c3": assertion_frame(claim)}), "fingerprint")
    assert con.execute("SELECT condition FROM claim_frames WHERE claim_id = 'c3'").fetchone() == ("alopecia_areata",)
    con.close()
