"""Read the web articles and normalise their text (look-alike letters, run-in headings, glued articles)."""
