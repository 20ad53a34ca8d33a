-- Which article assertions does the literature contradict (fully or in part), and by which PMIDs?
-- The strongest 25 records per side and how many records there are per side; every record:
-- evidence_for_assertion, or the verdicts view.
SELECT article_title, verdict, sentence, len(contradicting_pmids) AS n_contradicting_records,
       contradicting_pmids[1:25] AS strongest_contradicting_pmids, len(supporting_pmids) AS n_supporting_records,
       supporting_pmids[1:25] AS strongest_supporting_pmids, best_design, reason, claim_id
FROM verdicts
WHERE verdict IN ('contradicted', 'mixed')
ORDER BY verdict = 'mixed', best_evidence_level NULLS LAST, article_id, sentence_idx;
