-- Which records are retracted, where is the notice, and were they screened? (retracted records are never evidence)
SELECT p.pmid, p.pub_year, p.journal, p.title,
       [c.pmid FOR c IN from_json(p.comments_corrections, '[{"ref_type": "VARCHAR", "pmid": "VARCHAR", "source": "VARCHAR"}]')
        IF c.ref_type = 'RetractionIn'] AS retraction_notice_pmids,
       s.decision AS screening_decision
FROM pubmed_articles p LEFT JOIN screening s ON s.pmid = p.pmid
WHERE p.is_retracted
ORDER BY p.pmid;
