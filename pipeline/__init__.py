"""exosome-claims: what runs each night, fetch → parse → normalise → NLP → claims → compare → store → report."""
