-- How do each article's checkable assertions fare against the literature? (verdict counts per article)
SELECT article_id,
       any_value(article_title) AS article_title,
       count(*) AS assertions,
       count(*) FILTER (WHERE verdict = 'supported') AS supported,
       count(*) FILTER (WHERE verdict = 'supported only by preclinical evidence') AS preclinical_only,
       count(*) FILTER (WHERE verdict = 'mixed') AS mixed,
       count(*) FILTER (WHERE verdict = 'contradicted') AS contradicted,
       count(*) FILTER (WHERE verdict = 'not addressed') AS not_addressed
FROM verdicts
GROUP BY article_id
ORDER BY contradicted DESC, mixed DESC, article_id;
