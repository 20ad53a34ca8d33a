-- What did the last successful run add or rewrite? (new records, and records rewritten because their content or the NLP changed)
SELECT CASE WHEN p.first_run_id = p.updated_run_id THEN 'new' ELSE 'rewritten' END AS change,
       p.pmid, p.pub_year, p.study_design, p.title
FROM pubmed_articles p
WHERE p.updated_run_id = (SELECT run_id FROM runs WHERE status = 'succeeded' ORDER BY started_at DESC LIMIT 1)
ORDER BY change, p.pmid;
