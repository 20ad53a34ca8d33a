"""Our statistical models: corpus readers, scoring, and the names of the packages we ship."""
