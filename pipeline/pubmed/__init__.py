"""Fetch and parse PubMed records: the E-utilities client, the harvest, the bulk files and the raw-response archive."""
