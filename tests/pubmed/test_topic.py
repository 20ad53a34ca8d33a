"""The bulk source's topic filter: every term group must match the title, abstract, keywords or MeSH."""

from pipeline.config import load_settings
from pipeline.records import AbstractSection, MeshHeading, PubmedRecord
from pipeline.pubmed.topic import TopicFilter


def _record(title="", abstract="", keywords=(), mesh=()):
    return PubmedRecord(pmid="1", version=1, title=title, abstract_sections=(AbstractSection(None, None, abstract),),
                        journal="J", pub_year=2024, pub_date="2024", authors=(), doi=None, pmcid=None, language=("eng",),
                        pub_types=(), mesh=tuple(MeshHeading(m, None, False, ()) for m in mesh), keywords=keywords,
                        comments_corrections=(), date_revised=None)


def test_the_configured_topic_keeps_exosome_hair_records_and_drops_the_rest():
    topic = TopicFilter(load_settings(env={}).bulk.topic)
    assert topic.matches(_record(title="Exosomal miR-22 and the hair cycle"))
    assert topic.matches(_record(abstract="Extracellular vesicles from MSCs in androgenetic ALOPECIA."))
    assert topic.matches(_record(keywords=("exosomes",), mesh=("Hair Follicle",)))
    assert not topic.matches(_record(title="Exosomes in breast cancer"))  # one group only
    assert not topic.matches(_record(title="Minoxidil for alopecia"))
    # terms match at the start of a word, not inside one
    assert not topic.matches(_record(title="Nonexosomal chair design"))


def test_no_groups_keeps_everything():
    assert TopicFilter(()).matches(_record(title="Anything at all"))
