-- Which records have a given study design? (--param design=rct; also systematic_review, animal, in_vitro, ...)
SELECT pmid, pub_year, journal, title, population, sample_size, design_signal, is_retracted
FROM pubmed_articles
WHERE study_design = $design
ORDER BY pub_year DESC NULLS LAST, pmid;
