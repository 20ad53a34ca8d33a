-- What evidence is there behind one assertion, strongest first? (--param claim_id=... from assertion_verdicts)
SELECT l.pmid, p.pub_year, l.design, l.evidence_level, l.stance, round(l.score, 2) AS score,
       c.sentence AS abstract_says, l.reason, p.title, p.is_retracted
FROM evidence_links l
JOIN claims c ON c.claim_id = l.literature_claim_id
JOIN pubmed_articles p ON p.pmid = l.pmid
WHERE l.article_claim_id = $claim_id AND l.stance <> 'unrelated'
ORDER BY l.evidence_level, l.score DESC, l.pmid;
