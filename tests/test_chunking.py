import pytest
from conftest import SEED_DOC_ID, SEEDS

from assistant.library.chunking import count_tokens, find_sections, sentence_spans, split_article
from assistant.library.corpus import Article, FoundFile, read_article

SEED_SECTIONS = [
    "The Decision Not to Attend",
    "Unconventional Absence",
    "The Potential Motivations Behind the Move",
    "Reactions from European Leaders",
    "The Importance of Communication",
]


@pytest.fixture(scope="module")
def seed_article() -> Article:
    return read_article(FoundFile(SEEDS / SEED_DOC_ID, SEEDS))


def assert_exact_offsets(article: Article, nodes) -> None:
    for node in nodes:
        start, end = node.metadata["start_char"], node.metadata["end_char"]
        assert (node.start_char_idx, node.end_char_idx) == (start, end)
        assert article.text[start:end] == node.text


def test_seed_chunks_have_exact_offsets_budget_and_sections(seed_article):
    nodes = split_article(seed_article, chunk_tokens=200, overlap_tokens=40)
    assert_exact_offsets(seed_article, nodes)
    assert all(count_tokens(n.text) <= 200 for n in nodes)
    assert [n.metadata["section"] for n in nodes] == [""] + SEED_SECTIONS
    assert "Christopher Landau" in nodes[1].text
    assert all(n.metadata["chunk_count"] == len(nodes) for n in nodes)
    assert len({n.node_id for n in nodes}) == len(nodes)


def test_plain_text_headings_are_found(seed_article):
    assert [name for _, name in find_sections(seed_article.text, "text")] == SEED_SECTIONS


def test_markdown_headings_are_found():
    text = "# Title\n\nIntro paragraph.\n\n## First part\nText one.\n\n### Second part ###\nText two."
    assert [name for _, name in find_sections(text, "markdown")] == ["First part", "Second part"]


def test_short_article_is_one_chunk():
    article = Article(doc_id="s.txt", title="Short", text="Short\nOne sentence. Another sentence.")
    nodes = split_article(article, chunk_tokens=200, overlap_tokens=40)
    assert len(nodes) == 1
    assert nodes[0].text == article.text


def test_long_section_packs_sentences_with_overlap():
    sentences = [
        f"Sentence number {i} talks about the alliance and its members at length." for i in range(60)
    ]
    article = Article(doc_id="l.txt", title="Long", text="Long\n" + " ".join(sentences))
    nodes = split_article(article, chunk_tokens=64, overlap_tokens=16)
    assert len(nodes) > 5
    assert_exact_offsets(article, nodes)
    assert all(count_tokens(n.text) <= 64 for n in nodes)
    for before, after in zip(nodes[1:], nodes[2:], strict=False):
        assert after.start_char_idx < before.end_char_idx, "consecutive chunks overlap"
        assert after.start_char_idx > before.start_char_idx, "chunks advance"
    assert nodes[-1].end_char_idx == len(article.text)


def test_overlong_sentence_is_cut_at_token_boundaries():
    words = " ".join(f"word{i}" for i in range(400))
    article = Article(doc_id="w.txt", title="Words", text=f"Words\n{words} end.")
    nodes = split_article(article, chunk_tokens=50, overlap_tokens=10)
    assert_exact_offsets(article, nodes)
    assert all(count_tokens(n.text) <= 50 for n in nodes)
    covered = "".join(n.text for n in nodes).replace(" ", "")
    assert "word399" in covered and "word0" in covered


def test_embedding_sees_title_and_section_but_not_bookkeeping(seed_article):
    node = split_article(seed_article, chunk_tokens=200, overlap_tokens=40)[2]
    embedded = node.get_content(metadata_mode="embed")
    assert "section: Unconventional Absence" in embedded
    assert seed_article.title in embedded
    assert "content_hash" not in embedded and "start_char" not in embedded


def test_a_number_sign_ends_no_sentence():
    text = "Tanaka stays the year-end No. 1 in singles. Okafor was No. 2. She said so.\nNo.\n3 is next."
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "Tanaka stays the year-end No. 1 in singles.",
        "Okafor was No. 2.",
        "She said so.",
        "No.",
        "3 is next.",
    ], "but a line break still does"
