-- Which records still need screening (or were marked maybe), strongest evidence first?
SELECT pmid, coalesce(decision, 'unscreened') AS status, study_design, pub_year, title, has_abstract, is_retracted
FROM screening_status
WHERE NOT orphaned AND (decision IS NULL OR decision = 'maybe')
ORDER BY evidence_level NULLS LAST, pub_year DESC NULLS LAST, pmid;
