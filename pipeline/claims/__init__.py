"""Claims: which sentences assert something checkable, about what intervention and outcome, how strongly."""
