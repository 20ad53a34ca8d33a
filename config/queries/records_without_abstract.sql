-- Which records have no abstract (so no claims could be read from them)?
SELECT pmid, pub_year, journal, title, pub_types, study_design, doi
FROM pubmed_articles
WHERE NOT has_abstract
ORDER BY pub_year DESC NULLS LAST, pmid;
