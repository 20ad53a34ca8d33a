-- How did the last runs go?
SELECT run_id, status, started_at, records_found, records_new, records_updated, records_deleted, records_failed,
       claims_loaded, watermark, error
FROM runs
ORDER BY started_at DESC
LIMIT 10;
