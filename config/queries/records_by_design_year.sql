-- How many records are there per study design and publication year? (strongest designs first)
SELECT study_design, evidence_level, pub_year, count(*) AS records,
       count(*) FILTER (WHERE is_retracted) AS retracted,
       count(*) FILTER (WHERE NOT has_abstract) AS without_abstract
FROM pubmed_articles
GROUP BY ALL
ORDER BY evidence_level NULLS LAST, pub_year DESC NULLS LAST;
