"""HTML rendering escapes everything that comes from articles or models."""

from assistant.answering.answer import Answer, AnswerSentence, Citation
from assistant.web.render import answer_html, article_page

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


def test_markdown_in_articles_is_shown_as_text_not_rendered():
    text = "Tickets ![map](http://evil.example/map.png) cost [[1]](http://evil.example/fake) **12** euros."
    html = answer_html(
        Answer(question="q", answer=text, refused=False, mode="extractive", citations=[citation(text)],
               sentences=[AnswerSentence(text, [1])])
    )  # fmt: skip
    for syntax in ("![", "](", "[[", "**", "http://evil"):
        assert syntax not in html, syntax
    from html import unescape

    assert text in unescape(html), "the browser shows the characters as they were"


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


def test_follow_up_shows_what_was_searched_and_a_refusal_its_closest_passage():
    answer = Answer(
        question="Who won in 2022?", answer="I could not find it.", refused=True, mode="extractive",
        standalone_question="<b>Nobel</b> 2022 Who won in 2022?",
        closest={"citation": citation(PAYLOAD), "mismatch": "about 2021, not <i>2022</i>"},
    )  # fmt: skip
    html = answer_html(answer)
    assert "Searched for: &lt;b&gt;Nobel&lt;/b&gt; 2022 Who won in 2022?" in html
    assert "Closest passage, not an answer (about 2021, not &lt;i&gt;2022&lt;/i&gt;)" in html
    assert "<script" not in html and "Sources" not in html
    plain = answer_html(
        Answer(question="q", answer="a", refused=True, mode="extractive", standalone_question="q")
    )
    assert "Searched for" not in plain and "Closest passage" not in plain
