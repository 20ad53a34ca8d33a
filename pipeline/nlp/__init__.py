"""The spaCy pipeline: sentences, abbreviations, entities linked to concepts, sentence roles and embeddings."""
