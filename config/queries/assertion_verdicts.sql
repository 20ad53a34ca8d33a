-- What is the verdict on every article assertion, with the records behind it? (claim_id feeds evidence_for_assertion)
SELECT article_title, verdict, best_design, pmids, sentence, reason, claim_id
FROM verdicts
ORDER BY article_id, best_evidence_level NULLS LAST, sentence_idx;
