"""Schema migrations: an ordered list of functions, each applied once and recorded in the database."""

from __future__ import annotations

import datetime as dt
from typing import Callable

import duckdb

Migration = Callable[[duckdb.DuckDBPyConnection], None]
MIGRATIONS: list[tuple[int, str, Migration]] = []
EMBEDDING_DIMENSIONS = 384


def migration(version: int, name: str):
    def register(fn: Migration) -> Migration:
        MIGRATIONS.append((version, name, fn))
        return fn
    return register


@migration(1, "initial schema")
def _initial(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        CREATE TABLE runs (
            run_id VARCHAR PRIMARY KEY,
            started_at TIMESTAMP NOT NULL,
            finished_at TIMESTAMP,
            status VARCHAR NOT NULL,              -- running | succeeded | failed | abandoned
            records_found INTEGER DEFAULT 0,
            records_new INTEGER DEFAULT 0,
            records_updated INTEGER DEFAULT 0,
            records_unchanged INTEGER DEFAULT 0,
            records_deleted INTEGER DEFAULT 0,
            records_failed INTEGER DEFAULT 0,
            articles_loaded INTEGER DEFAULT 0,
            claims_loaded INTEGER DEFAULT 0,
            search_from DATE,
            watermark DATE,
            nlp_version VARCHAR,
            error VARCHAR
        )""")
    con.execute("""
        CREATE TABLE pubmed_articles (
            pmid VARCHAR PRIMARY KEY,
            version INTEGER,
            title VARCHAR,
            abstract VARCHAR,
            abstract_sections JSON,
            journal VARCHAR,
            pub_year INTEGER,
            pub_date VARCHAR,
            authors VARCHAR[],
            doi VARCHAR,
            pmcid VARCHAR,
            language VARCHAR[],
            pub_types VARCHAR[],
            mesh_terms VARCHAR[],
            mesh_major_terms VARCHAR[],
            mesh_ids VARCHAR[],
            keywords VARCHAR[],
            comments_corrections JSON,
            is_retracted BOOLEAN,
            has_abstract BOOLEAN,
            is_book BOOLEAN,
            date_revised VARCHAR,
            content_sha256 VARCHAR,
            nlp_version VARCHAR,
            first_run_id VARCHAR,
            updated_run_id VARCHAR
        )""")
    con.execute("""
        CREATE TABLE articles (
            article_id VARCHAR PRIMARY KEY,
            source VARCHAR,
            title VARCHAR,
            raw_text VARCHAR,
            text VARCHAR,
            folded_chars INTEGER,
            content_sha256 VARCHAR,
            nlp_version VARCHAR,
            updated_run_id VARCHAR
        )""")
    con.execute("""
        CREATE TABLE sentences (
            source VARCHAR, doc_id VARCHAR, sentence_idx INTEGER,
            start_char INTEGER, end_char INTEGER, text VARCHAR, section VARCHAR,
            PRIMARY KEY (source, doc_id, sentence_idx)
        )""")
    con.execute("""
        CREATE TABLE entities (
            source VARCHAR, doc_id VARCHAR, sentence_idx INTEGER,
            start_char INTEGER, end_char INTEGER, text VARCHAR, label VARCHAR,
            concept_id VARCHAR, canonical_name VARCHAR, long_form VARCHAR,
            PRIMARY KEY (source, doc_id, start_char, end_char)
        )""")
    con.execute("""
        CREATE TABLE claims (
            claim_id VARCHAR PRIMARY KEY,
            source VARCHAR, doc_id VARCHAR, sentence_idx INTEGER, sentence VARCHAR,
            claim_type VARCHAR, polarity VARCHAR, certainty VARCHAR,
            intervention VARCHAR, outcome VARCHAR, direction VARCHAR, cues VARCHAR[]
        )""")
    con.execute("""
        CREATE TABLE concepts (
            concept_id VARCHAR PRIMARY KEY, canonical_name VARCHAR, label VARCHAR, aliases VARCHAR[]
        )""")
    con.execute("""
        CREATE TABLE fetch_failures (
            pmid VARCHAR PRIMARY KEY,
            error VARCHAR,
            first_run_id VARCHAR,
            last_run_id VARCHAR,
            attempts INTEGER
        )""")
    con.execute("""
        CREATE TABLE raw_responses (
            sha256 VARCHAR PRIMARY KEY,
            run_id VARCHAR,
            utility VARCHAR,
            request JSON,
            path VARCHAR,
            bytes BIGINT,
            fetched_at TIMESTAMP
        )""")
    con.execute("CREATE INDEX sentences_doc ON sentences (source, doc_id)")
    con.execute("CREATE INDEX entities_concept ON entities (concept_id)")
    con.execute("CREATE INDEX claims_doc ON claims (source, doc_id)")


@migration(2, "study design and evidence level on pubmed_articles")
def _study_design(con: duckdb.DuckDBPyConnection) -> None:
    for column, kind in (("study_design", "VARCHAR"), ("evidence_level", "INTEGER"), ("population", "VARCHAR"),
                         ("sample_size", "INTEGER"), ("design_signal", "VARCHAR")):
        con.execute(f"ALTER TABLE pubmed_articles ADD COLUMN {column} {kind}")
    from pipeline.compare.study_design import classify_text

    rows = con.execute("SELECT pmid, title, abstract, pub_types, mesh_terms FROM pubmed_articles").fetchall()
    for pmid, title, abstract, pub_types, mesh_terms in rows:
        d = classify_text(title or "", abstract or "", pub_types or [], mesh_terms or [])
        con.execute("""UPDATE pubmed_articles SET study_design = ?, evidence_level = ?, population = ?,
                       sample_size = ?, design_signal = ? WHERE pmid = ?""",
                    [d.design, d.evidence_level, d.population, d.sample_size, d.signal, pmid])


@migration(3, "entities from statistical NER models, sentence roles")
def _model_entities(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("ALTER TABLE sentences ADD COLUMN role VARCHAR")
    con.execute("ALTER TABLE sentences ADD COLUMN role_source VARCHAR")
    con.execute("""UPDATE sentences SET role = section, role_source = 'structured'
                   WHERE section IN ('BACKGROUND', 'OBJECTIVE', 'METHODS', 'RESULTS', 'CONCLUSIONS')""")
    con.execute("ALTER TABLE entities ADD COLUMN model_label VARCHAR")
    con.execute("ALTER TABLE entities ADD COLUMN detectors VARCHAR[]")
    con.execute("UPDATE entities SET detectors = ['lexicon']")


@migration(4, "evidence links, verdicts and conflicts between articles")
def _comparison(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        CREATE TABLE evidence_links (
            article_claim_id VARCHAR,
            literature_claim_id VARCHAR,
            pmid VARCHAR,
            stance VARCHAR,              -- supports | contradicts | unrelated
            score DOUBLE,
            evidence_level INTEGER,
            design VARCHAR,
            reason VARCHAR,
            method VARCHAR,              -- facts | text
            text_stance VARCHAR,         -- the stance classifier's reading of the two sentences
            text_probability DOUBLE,
            PRIMARY KEY (article_claim_id, literature_claim_id)
        )""")
    con.execute("""
        CREATE TABLE claim_verdicts (
            claim_id VARCHAR PRIMARY KEY,
            verdict VARCHAR,
            best_evidence_level INTEGER,
            best_design VARCHAR,
            n_supports INTEGER,
            n_contradicts INTEGER,
            n_unrelated INTEGER,
            supporting_pmids VARCHAR[],
            contradicting_pmids VARCHAR[],
            reason VARCHAR
        )""")
    con.execute("""
        CREATE TABLE article_conflict_pairs (
            claim_id_a VARCHAR, claim_id_b VARCHAR, article_id_a VARCHAR, article_id_b VARCHAR, reason VARCHAR,
            PRIMARY KEY (claim_id_a, claim_id_b)
        )""")
    con.execute("CREATE TABLE comparison_state (inputs_sha256 VARCHAR, compared_at TIMESTAMP)")
    con.execute("""
        CREATE VIEW literature_claims AS
        SELECT c.claim_id, c.doc_id AS pmid, c.sentence_idx, c.sentence, s.role, c.claim_type, c.polarity,
               c.certainty, c.intervention, c.outcome, c.direction, p.title, p.journal, p.pub_year,
               p.study_design, p.evidence_level, p.population, p.sample_size, p.is_retracted
        FROM claims c
        JOIN pubmed_articles p ON c.source = 'pubmed' AND p.pmid = c.doc_id
        LEFT JOIN sentences s ON s.source = c.source AND s.doc_id = c.doc_id AND s.sentence_idx = c.sentence_idx""")
    con.execute("""
        CREATE VIEW verdicts AS
        SELECT v.claim_id, c.doc_id AS article_id, a.title AS article_title, c.sentence_idx, c.sentence,
               c.claim_type, c.polarity, c.certainty, c.intervention, c.outcome, c.direction,
               v.verdict, v.best_evidence_level, v.best_design, v.n_supports, v.n_contradicts, v.n_unrelated,
               list_distinct(list_concat(v.supporting_pmids, v.contradicting_pmids)) AS pmids,
               v.supporting_pmids, v.contradicting_pmids, v.reason
        FROM claim_verdicts v
        JOIN claims c ON c.claim_id = v.claim_id
        LEFT JOIN articles a ON a.article_id = c.doc_id""")
    con.execute("""
        CREATE VIEW article_conflicts AS
        SELECT k.article_id_a, aa.title AS article_title_a, ca.sentence AS sentence_a,
               k.article_id_b, ab.title AS article_title_b, cb.sentence AS sentence_b,
               k.reason, k.claim_id_a, k.claim_id_b
        FROM article_conflict_pairs k
        JOIN claims ca ON ca.claim_id = k.claim_id_a
        JOIN claims cb ON cb.claim_id = k.claim_id_b
        LEFT JOIN articles aa ON aa.article_id = k.article_id_a
        LEFT JOIN articles ab ON ab.article_id = k.article_id_b""")


@migration(5, "search hits per query, screening decisions, PRISMA counts")
def _review(con: duckdb.DuckDBPyConnection) -> None:
    # Which PMIDs each configured query returned in each run: PRISMA's "records identified" per query,
    # and the duplicates between queries, need the PMIDs themselves (counts cannot be de-duplicated).
    con.execute("""
        CREATE TABLE search_hits (
            run_id VARCHAR, query VARCHAR, pmid VARCHAR,
            PRIMARY KEY (run_id, query, pmid)
        )""")
    # Analysts' decisions. The pipeline never writes, rewrites or deletes these rows (no foreign key:
    # a decision outlives its record's deletion and shows up as orphaned in screening_status).
    con.execute("""
        CREATE TABLE screening (
            pmid VARCHAR PRIMARY KEY,
            decision VARCHAR NOT NULL CHECK (decision IN ('include', 'exclude', 'maybe')),
            reason VARCHAR,
            reviewer VARCHAR,
            updated_at TIMESTAMP NOT NULL
        )""")
    con.execute("""
        CREATE VIEW run_queries AS
        SELECT h.run_id, r.started_at, h.query, count(*) AS records_identified
        FROM search_hits h LEFT JOIN runs r ON r.run_id = h.run_id
        GROUP BY ALL""")
    con.execute("""
        CREATE VIEW screening_status AS
        SELECT coalesce(p.pmid, s.pmid) AS pmid, p.title, p.journal, p.pub_year, p.study_design, p.evidence_level,
               p.has_abstract, p.is_retracted, s.decision, s.reason, s.reviewer, s.updated_at AS screened_at,
               p.pmid IS NULL AS orphaned
        FROM pubmed_articles p FULL OUTER JOIN screening s ON s.pmid = p.pmid""")
    # One row per PRISMA number; run_id NULL is the scope "all runs together". A run's records are the
    # distinct PMIDs its searches returned, in their current stored state.
    con.execute("""
        CREATE VIEW prisma_counts AS
        WITH hits AS (
            SELECT run_id, query, pmid FROM search_hits
            UNION
            SELECT NULL, query, pmid FROM search_hits
            UNION
            SELECT NULL, '(stored before per-query counts were kept)', pmid FROM pubmed_articles
            WHERE pmid NOT IN (SELECT pmid FROM search_hits)
        ),
        scopes AS (SELECT DISTINCT run_id FROM hits UNION SELECT NULL),
        per_query AS (SELECT run_id, query, count(*) AS n FROM hits GROUP BY ALL),
        records AS (
            SELECT d.run_id, d.pmid, p.pmid IS NOT NULL AS retrieved, p.has_abstract, p.is_retracted,
                   p.study_design, p.evidence_level, coalesce(s.decision, 'unscreened') AS decision
            FROM (SELECT DISTINCT run_id, pmid FROM hits) d
            LEFT JOIN pubmed_articles p ON p.pmid = d.pmid
            LEFT JOIN screening s ON s.pmid = d.pmid
        ),
        totals AS (
            SELECT s.run_id,
                   coalesce((SELECT sum(n) FROM per_query q WHERE q.run_id IS NOT DISTINCT FROM s.run_id), 0)
                       AS identified,
                   count(r.pmid) AS distinct_records,
                   count(r.pmid) FILTER (WHERE NOT r.retrieved) AS not_retrieved,
                   count(r.pmid) FILTER (WHERE r.retrieved) AS retrieved,
                   count(r.pmid) FILTER (WHERE r.retrieved AND NOT r.has_abstract) AS without_abstract,
                   count(r.pmid) FILTER (WHERE r.retrieved AND r.is_retracted) AS retracted
            FROM scopes s LEFT JOIN records r ON r.run_id IS NOT DISTINCT FROM s.run_id
            GROUP BY s.run_id
        )
        SELECT run_id, 1 AS step, 'identified' AS measure, query AS detail, n AS records FROM per_query
        UNION ALL SELECT run_id, 2, 'identified_total', NULL, identified FROM totals
        UNION ALL SELECT run_id, 3, 'duplicates_removed', NULL, identified - distinct_records FROM totals
        UNION ALL SELECT run_id, 4, 'after_duplicates_removed', NULL, distinct_records FROM totals
        UNION ALL SELECT run_id, 5, 'not_retrieved', NULL, not_retrieved FROM totals
        UNION ALL SELECT run_id, 6, 'records', NULL, retrieved FROM totals
        UNION ALL SELECT run_id, 7, 'without_abstract', NULL, without_abstract FROM totals
        UNION ALL SELECT run_id, 8, 'retracted', NULL, retracted FROM totals
        UNION ALL SELECT run_id, 9, 'design', coalesce(study_design, 'unclassified'), count(*) FROM records
                  WHERE retrieved GROUP BY ALL
        UNION ALL SELECT run_id, 10, 'screening', decision, count(*) FROM records WHERE retrieved GROUP BY ALL""")


@migration(6, "PubMed baseline and update files loaded")
def _bulk_files(con: duckdb.DuckDBPyConnection) -> None:
    # One row per NLM file (pipeline/pubmed/bulk.py). NLM never rewrites a published file, so the sha256
    # taken when it was loaded tells a re-downloaded, changed file from the one already applied.
    con.execute("""
        CREATE TABLE bulk_files (
            name VARCHAR PRIMARY KEY,             -- pubmed25n0001.xml.gz
            kind VARCHAR NOT NULL CHECK (kind IN ('baseline', 'update')),
            number INTEGER NOT NULL,
            size_bytes BIGINT,
            sha256 VARCHAR,
            records INTEGER,
            deletions INTEGER,
            run_id VARCHAR,
            started_at TIMESTAMP,
            finished_at TIMESTAMP,
            status VARCHAR NOT NULL CHECK (status IN ('loading', 'done'))
        )""")


@migration(7, "the version of the study-design rules that decided each record")
def _design_rules(con: duckdb.DuckDBPyConnection) -> None:
    # NULL for the records stored so far: the next run decides their designs again with its rules
    con.execute("ALTER TABLE pubmed_articles ADD COLUMN design_rules VARCHAR")


@migration(8, "sentence embeddings, their similarity and the stance probabilities on evidence links")
def _embeddings(con: duckdb.DuckDBPyConnection) -> None:
    # Keyed by the text's hash and the encoder's version, not by sentence: the same sentence in two records
    # (or again after its record was re-processed) is encoded once, and a new encoder re-encodes everything.
    con.execute("ALTER TABLE sentences ADD COLUMN text_sha256 VARCHAR")
    con.execute("UPDATE sentences SET text_sha256 = sha256(text)")
    con.execute(f"""
        CREATE TABLE sentence_embeddings (
            text_sha256 VARCHAR NOT NULL,
            model_version VARCHAR NOT NULL,
            embedding FLOAT[{EMBEDDING_DIMENSIONS}] NOT NULL,
            embedded_at TIMESTAMP,
            PRIMARY KEY (text_sha256, model_version)
        )""")
    con.execute("ALTER TABLE evidence_links ADD COLUMN similarity DOUBLE")
    for label in ("supports", "contradicts", "unrelated"):
        con.execute(f"ALTER TABLE evidence_links ADD COLUMN text_p_{label} DOUBLE")


@migration(9, "claim frames, and certainty and key PMIDs of verdicts")
def _frames(con: duckdb.DuckDBPyConnection) -> None:
    # What each claim asserts (article claims) or can speak to (abstract claims), on the domain of
    # config/lexicon/evidence.toml; recomputed by the comparison stage with the links and verdicts
    con.execute("""
        CREATE TABLE claim_frames (
            claim_id VARCHAR PRIMARY KEY,
            source VARCHAR,
            checkable BOOLEAN,
            not_checkable_reason VARCHAR,
            asserts VARCHAR,                 -- effect | safety | content | evidence_lacking
            outcomes VARCHAR[],              -- outcome keys, most specific level found: hair_growth/density
            population VARCHAR,              -- people | animals | cells | unstated
            intervention VARCHAR,            -- family/source: exosomes/msc, secretome, ...
            comparator VARCHAR,
            long_term BOOLEAN,
            follow_up_weeks DOUBLE,
            strength VARCHAR,                -- asserted | hedged
            safety VARCHAR,                  -- safe | harm
            claims_studies BOOLEAN,
            single_study BOOLEAN,
            pmid VARCHAR,
            design VARCHAR,
            sample_size INTEGER,
            controlled BOOLEAN,
            sponsor BOOLEAN,
            lacking BOOLEAN,
            reviews_randomised BOOLEAN,
            finding BOOLEAN,                 -- false: a hedged background sentence, not the study's finding
            domain_version VARCHAR
        )""")
    con.execute("ALTER TABLE claim_verdicts ADD COLUMN certainty VARCHAR")
    con.execute("ALTER TABLE claim_verdicts ADD COLUMN key_pmids VARCHAR[]")
    # the view's `certainty` is the claim's (asserted | hedged); the evidence's is `certainty_of_evidence`
    con.execute("DROP VIEW verdicts")
    con.execute("""
        CREATE VIEW verdicts AS
        SELECT v.claim_id, c.doc_id AS article_id, a.title AS article_title, c.sentence_idx, c.sentence,
               c.claim_type, c.polarity, c.certainty, c.intervention, c.outcome, c.direction,
               v.verdict, v.best_evidence_level, v.best_design, v.n_supports, v.n_contradicts, v.n_unrelated,
               list_distinct(list_concat(v.supporting_pmids, v.contradicting_pmids)) AS pmids,
               v.supporting_pmids, v.contradicting_pmids, v.reason,
               v.certainty AS certainty_of_evidence, v.key_pmids
        FROM claim_verdicts v
        JOIN claims c ON c.claim_id = v.claim_id
        LEFT JOIN articles a ON a.article_id = c.doc_id""")



@migration(10, "the stage a run is in, and the run that last made or confirmed the comparison")
def _run_stages(con: duckdb.DuckDBPyConnection) -> None:
    # runs.stage: the stage the run is in while running, where it stopped when failed or abandoned, the last
    # one (evidence-report) when it succeeded; named as the flow's tasks are (ingest-articles ... evidence-report).
    # Runs recorded before this migration keep NULL: which stage they reached was not recorded
    con.execute("ALTER TABLE runs ADD COLUMN stage VARCHAR")
    con.execute("ALTER TABLE comparison_state ADD COLUMN run_id VARCHAR")


@migration(11, "the kind of statement about the field an article claim makes")
def _frame_statements(con: duckdb.DuckDBPyConnection) -> None:
    # regulation, approval, quality, trial_status, time_course, novelty, cargo, biology, condition ([statements] of
    # config/lexicon/evidence.toml): judged only by records that state that kind of fact; NULL for other claims
    con.execute("ALTER TABLE claim_frames ADD COLUMN statement VARCHAR")


@migration(12, "the form of hair loss a claim is about")
def _frame_conditions(con: duckdb.DuckDBPyConnection) -> None:
    # alopecia_areata, telogen_effluvium, androgenetic_alopecia ([conditions] of config/lexicon/evidence.toml): a claim
    # about one is not answered by records about another; NULL where a claim names none (or several)
    con.execute("ALTER TABLE claim_frames ADD COLUMN condition VARCHAR")


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply every migration not yet recorded in ``schema_migrations``; return the versions applied."""
    con.execute("""CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)""")
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for version, name, fn in sorted(MIGRATIONS):
        if version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            fn(con)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", [version, name, dt.datetime.now()])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT max(version) FROM schema_migrations").fetchone()
    return row[0] or 0

