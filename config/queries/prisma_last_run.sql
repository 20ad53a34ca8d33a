-- What are the PRISMA numbers of the last run that searched PubMed?
SELECT run_id, measure, detail, records
FROM prisma_counts
WHERE run_id = (SELECT h.run_id FROM search_hits h JOIN runs r USING (run_id) ORDER BY r.started_at DESC LIMIT 1)
ORDER BY step, records DESC, detail;
