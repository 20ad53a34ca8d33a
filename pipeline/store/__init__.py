"""The DuckDB store: schema migrations, loading runs, embeddings, the comparison tables and search."""
