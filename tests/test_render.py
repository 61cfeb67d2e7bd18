"""HTML rendering escapes everything that comes from articles or models; quotes read as plain text;
the viewer shows an article as an article."""

from html import unescape

from assistant.answering.answer import Answer, AnswerSentence, Citation
from assistant.web.documents import page_of
from assistant.web.render import answer_html
from assistant.web.viewer import article_page

PAYLOAD = '<script>window.__pwned=1</script><img src=x onerror="alert(1)"><a href="javascript:alert(2)">x</a>'


def citation(text: str) -> Citation:
    return Citation(
        n=1, doc_id="evil.txt", title="<b>Title</b>", source="", section="<i>S</i>", start_char=0,
        end_char=len(text), quote=text, text=text, passage_start=0, passage_end=len(text), score=0.5,
        chunk_id="evil.txt::x::00000",
    )  # fmt: skip


def test_answer_html_escapes_text_titles_and_quotes():
    answer = Answer(
        question="q",
        answer=PAYLOAD + " [1]",
        refused=False,
        mode="llm",
        citations=[citation(PAYLOAD)],
        sentences=[AnswerSentence(PAYLOAD, [1]), AnswerSentence("<u>made up</u>", [], supported=False)],
        warnings=["<script>bad()</script>"],
    )
    html = answer_html(answer)
    for dangerous in ("<script", "<img", '<a href="javascript', "<b>", "<i>", "<u>"):
        assert dangerous not in html
    assert "&lt;script&gt;window.&#95;&#95;pwned=1&lt;/script&gt;" in html
    assert 'href="/view?doc_id=evil.txt&amp;start=0&amp;end=' in html
    assert "(not supported by the articles)" in html
    assert "<mark>" in html


def test_markdown_in_articles_is_shown_as_plain_text_never_rendered():
    text = "Tickets ![map](http://evil.example/map.png) cost [[1]](http://evil.example/fake) **12** euros."
    html = answer_html(
        Answer(question="q", answer=text, refused=False, mode="extractive", citations=[citation(text)],
               sentences=[AnswerSentence(text, [1])])
    )  # fmt: skip
    for syntax in ("![", "](", "[[", "**", "http://evil"):
        assert syntax not in html, syntax
    shown = unescape(html)
    assert (
        "Tickets ![map](http://evil.example/map.png) cost [[1]](http://evil.example/fake) 12 euros." in shown
    )
    assert "**" not in shown, "emphasis marks are dropped, links and images shown as typed"


def test_quotes_are_plain_text_on_one_line_whatever_the_markdown():
    text = "## Detours\n\nThe ferry *Marisol* leaves at nine.\n\nIt carries snake_case_names."
    quote = "The ferry *Marisol* leaves at nine."
    start = text.index(quote)
    cited = Citation(
        n=1, doc_id="f.md", title="Ferry", source="", section="Detours", start_char=start,
        end_char=start + len(quote), quote=quote,
        text=text, passage_start=0, passage_end=len(text), score=1.0, chunk_id="f.md::x::0",
    )  # fmt: skip
    html = answer_html(
        Answer(question="q", answer="a", refused=False, mode="extractive", citations=[cited],
               sentences=[AnswerSentence(cited.quote, [1])])
    )  # fmt: skip
    shown = unescape(html)
    assert "Detours <mark>The ferry Marisol leaves at nine.</mark> It carries snake_case_names." in shown
    assert "<h2" not in html and "##" not in shown and "*Marisol*" not in shown


def test_sources_are_collapsed_counted_and_one_entry_per_section():
    text = "First claim here. Second claim there. Third claim elsewhere."

    def cite(n: int, phrase: str, section: str) -> Citation:
        start = text.index(phrase)
        return Citation(
            n=n, doc_id="a.txt", title="A", source="", section=section, start_char=start,
            end_char=start + len(phrase), quote=phrase, text=text, passage_start=0,
            passage_end=len(text), score=1.0, chunk_id=f"a.txt::x::{n}",
        )  # fmt: skip

    citations = [cite(1, "First claim here.", "One"), cite(2, "Second claim there.", "One"),
                 cite(3, "Third claim elsewhere.", "Two")]  # fmt: skip
    html = answer_html(
        Answer(question="q", answer="a", refused=False, mode="extractive", citations=citations,
               sentences=[AnswerSentence(c.quote, [c.n]) for c in citations])
    )  # fmt: skip
    assert '<details class="sources"><summary>Sources (3)</summary>' in html
    assert html.count('<li class="source">') == 2, "the two spans of section One share an entry"
    assert html.count("<blockquote") == 3
    assert "spans=" in html, "a span's viewer link carries the answer's other spans of the article"


def test_refusal_renders_without_sources():
    html = answer_html(Answer(question="q", answer="I could not find it.", refused=True, mode="extractive"))
    assert 'class="refusal"' in html and "Sources" not in html


def test_article_page_escapes_and_marks_the_span():
    text = "Before. " + PAYLOAD + " After."
    page = article_page({"doc_id": "e.txt", "title": "<t>", "text": text}, 8, 8 + len(PAYLOAD))
    assert "<script>window" not in page and "<img" not in page
    assert '<mark id="cited">&lt;script&gt;' in page
    assert "<title>&lt;t&gt;</title>" in page
    assert '<mark id="cited">' not in article_page({"doc_id": "e", "title": "t", "text": text}, 50, 10)


def test_the_viewer_shows_headings_paragraphs_the_title_once_and_steps_between_spans():
    text = "# Ferry news\n\nThe ferry *Marisol*\nleaves at nine.\n\n## Detours\n\nA detour runs on Sundays."
    first, second = text.index("leaves at nine."), text.index("A detour")
    document = {"doc_id": "f.md", "title": "Ferry news", "text": text, "url": "https://news.example/f",
                "source": "Harbour Herald", "author": "Ines Marlow"}  # fmt: skip
    page = article_page(document, first, first + 15, spans=f"{second}-{second + 8},junk,5-2")
    assert page.count("Ferry news</h1>") == 1 and "# Ferry" not in page, "the title once, as the h1"
    assert "<h3>Detours</h3>" in page and "##" not in page
    assert '<p>The ferry Marisol <mark id="cited">leaves at nine.</mark>' in page
    assert '<mark id="cited-2">A detour</mark>' in page
    assert 'href="#cited-2" title="next cited passage"' in page
    assert 'href="#cited" title="previous cited passage"' in page
    assert '<a href="https://news.example/f" rel="noopener noreferrer">the original</a>' in page
    assert '<a href="./">← Back to the chat</a>' in page
    assert '<p class="facts">Harbour Herald · Ines Marlow · <a href="https://news.example/f"' in page
    unsafe = article_page(document | {"url": "javascript:alert(1)"}, None, None)
    assert "javascript:" not in unsafe


def test_follow_up_shows_what_was_searched_and_a_refusal_its_closest_passage():
    answer = Answer(
        question="Who won in 2022?", answer="I could not find it.", refused=True, mode="extractive",
        standalone_question="<b>Varga</b> 2022 Who won in 2022?",
        closest={"citation": citation(PAYLOAD), "mismatch": "about 2021, not <i>2022</i>"},
    )  # fmt: skip
    html = answer_html(answer)
    assert "Searched for: &lt;b&gt;Varga&lt;/b&gt; 2022 Who won in 2022?" in html
    assert "Closest passage, not an answer (about 2021, not &lt;i&gt;2022&lt;/i&gt;)" in html
    assert "<script" not in html and "Sources" not in html
    plain = answer_html(
        Answer(question="q", answer="a", refused=True, mode="extractive", standalone_question="q")
    )
    assert "Searched for" not in plain and "Closest passage" not in plain


def test_a_thousand_articles_page_and_search():
    documents = [
        {"doc_id": f"news/{n:04d}.txt", "title": f"Harbour report {n}", "source": "Wire" if n % 2 else "Post",
         "published": "2026-01-02", "chunks": 3, "indexed": "2026-11-29T03:00:00+00:00"}
        for n in range(1000)
    ]  # fmt: skip
    rows, page, pages, line = page_of(documents, "", 0)
    assert (len(rows), page, pages) == (25, 0, 40) and line == "1,000 articles · page 1 of 40"
    assert rows[0] == ["Harbour report 0", "Post", "2026-01-02", 3, "2026-11-29 03:00:00", "news/0000.txt"]
    assert page_of(documents, "", 99)[1:3] == (39, 40), "past the end: the last page"
    rows, _, _, line = page_of(documents, "REPORT 123", 0)
    assert [r[0] for r in rows] == ["Harbour report 123"] and line.startswith("1 of 1,000 articles")
    assert page_of(documents, "wire", 0)[2:] == (20, "500 of 1,000 articles · page 1 of 20")
