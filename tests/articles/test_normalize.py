from helpers import PROJECT
from pipeline.articles.ingest import read_article_directory, read_article_file
from pipeline.articles.normalize import fold_confusables, normalise_text, split_blocks

ARTICLES = PROJECT / "data" / "articles"


def test_cyrillic_lookalikes_are_folded_and_counted():
    text, folded = fold_confusables("Exоsоmеs are tіnу vеsісlеs")  # Cyrillic о, е, і, у, с
    assert text == "Exosomes are tiny vesicles" and folded == 9


def test_real_cyrillic_and_greek_symbols_are_left_alone():
    text, folded = fold_confusables("Москва and TNF-α and TGF-β")
    assert text == "Москва and TNF-α and TGF-β" and folded == 0


def test_nfkc_and_missing_space_after_full_stop():
    result = normalise_text("Exosome ﬁbres\u00a0work in infection.Currently they are used, e.g. in Fig.2 and U.S. trials.")
    assert "fibres work" in result.text
    assert "infection. Currently" in result.text
    assert "e.g. in" in result.text and "U.S. trials" in result.text


def test_headings_become_their_own_blocks():
    blocks = split_blocks("What Are Exosomes?\nExosomes are vesicles.\nSafety Profile\nThey are safe.\n")
    assert [(b.text, b.is_heading) for b in blocks] == [
        ("What Are Exosomes?", True), ("Exosomes are vesicles.", False), ("Safety Profile", True), ("They are safe.", False)]


def test_seed_articles_keep_raw_text_and_count_folds():
    articles = {a.article_id: a for a in read_article_directory(ARTICLES)}
    homoglyph = articles["000_67518fd690d0f3e4"]
    assert homoglyph.folded_chars > 500
    assert "Exоsоmеs" in homoglyph.raw_text and "Exosomes are tiny vesicles" in homoglyph.text
    assert not any("\u0400" <= c <= "\u04ff" for c in homoglyph.text)
    assert articles["004_521fd913206961d3"].folded_chars == 0


def test_glued_file_is_split_into_its_articles():
    parts = read_article_file(ARTICLES / "001_0ac89671bc1565eb.txt")
    assert [p.title for p in parts] == [
        "How Do Exosomes Work for Hair Loss? Exploring the Science",
        "What Evidence Supports the Use of Exosomes for Hair Loss?",
        "Do Exosomes Work for Hair Loss? Assessing Effectiveness and Safety",
        "Understanding the Role of Exosomes in Hair Regeneration",
    ]
    assert all(p.raw_text.strip() for p in parts)
    assert parts[1].raw_text.startswith("What Evidence Supports")


def test_empty_and_bom_files(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "bom.txt").write_bytes("\ufeffExosome Title\nExosomes are vesicles.".encode("utf-8"))
    articles = read_article_directory(tmp_path)
    assert [a.article_id for a in articles] == ["bom"] and articles[0].title == "Exosome Title"
