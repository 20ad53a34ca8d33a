"""Scorers: how well each part of the pipeline does against labelled data.

Behind ``exoclaims eval`` and ``exoclaims models eval``, one module per thing scored: :mod:`~pipeline.evaluation.models` (NER, tagger and parser on the public
corpora, read by :mod:`~pipeline.evaluation.corpora`), :mod:`~pipeline.evaluation.claims` (claim detection),
:mod:`~pipeline.evaluation.stance` (claim-evidence stance), :mod:`~pipeline.evaluation.study_design` and
:mod:`~pipeline.evaluation.verdicts` (a database's verdicts against a reviewer's labels), all counting with
:mod:`~pipeline.evaluation.metrics`. They import the runtime they score; the nightly run imports none of them.
"""
