-- What is the verdict on every article assertion, with the records behind it? (claim_id feeds evidence_for_assertion)
-- The strongest 25 records per side and how many records there are per side; every record: evidence_for_assertion,
-- or verdicts.pmids.
SELECT article_title, verdict, best_design, len(supporting_pmids) AS n_supporting_records,
       len(contradicting_pmids) AS n_contradicting_records,
       list_distinct(list_concat(supporting_pmids[1:25], contradicting_pmids[1:25])) AS strongest_pmids,
       sentence, reason, claim_id
FROM verdicts
ORDER BY article_id, best_evidence_level NULLS LAST, sentence_idx;
