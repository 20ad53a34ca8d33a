-- Which article assertions does the literature contradict (fully or in part), and by which PMIDs?
SELECT article_title, verdict, sentence, contradicting_pmids, supporting_pmids, best_design, reason, claim_id
FROM verdicts
WHERE verdict IN ('contradicted', 'mixed')
ORDER BY verdict = 'mixed', best_evidence_level NULLS LAST, article_id, sentence_idx;
