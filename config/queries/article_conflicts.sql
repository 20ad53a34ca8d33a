-- Where do the articles contradict each other?
SELECT article_title_a, sentence_a, article_title_b, sentence_b, reason
FROM article_conflicts
ORDER BY article_id_a, article_id_b;
