-- How far has screening got? (records per decision; orphaned: decisions whose record was deleted upstream)
SELECT CASE WHEN orphaned THEN 'orphaned (record deleted)' ELSE coalesce(decision, 'unscreened') END AS status,
       count(*) AS records,
       count(*) FILTER (WHERE is_retracted) AS retracted
FROM screening_status
GROUP BY ALL
ORDER BY records DESC;
