-- What are the PRISMA numbers over all runs (identified per query, duplicates removed, records, designs, screening)?
SELECT measure, detail, records
FROM prisma_counts
WHERE run_id IS NULL
ORDER BY step, records DESC, detail;
