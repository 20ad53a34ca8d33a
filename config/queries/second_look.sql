-- Which assertions came out not addressed although records on their topic were read, and which are nearest?
-- A reviewer's worklist: the verdicts most worth a second look, the assertion with the closest record first;
-- nearest_pmids are the five records read that are nearest the assertion in meaning.
WITH records_read AS (
    SELECT article_claim_id AS claim_id, pmid, max(similarity) AS similarity
    FROM evidence_links
    WHERE stance = 'unrelated'
    GROUP BY article_claim_id, pmid
)
SELECT v.article_title, v.sentence, v.claim_type, count(*) AS n_records_read,
       list(r.pmid ORDER BY r.similarity DESC NULLS LAST, r.pmid)[1:5] AS nearest_pmids,
       round(max(r.similarity), 2) AS best_similarity, v.reason, v.claim_id
FROM verdicts v
JOIN records_read r ON r.claim_id = v.claim_id
WHERE v.verdict = 'not addressed'
GROUP BY v.article_id, v.sentence_idx, v.article_title, v.sentence, v.claim_type, v.reason, v.claim_id
ORDER BY best_similarity DESC NULLS LAST, v.article_id, v.sentence_idx;
