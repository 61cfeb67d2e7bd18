from pathlib import Path

import pytest
from conftest import SEED_DOC_ID, SEEDS

from assistant.errors import ArticleError
from assistant.library.corpus import FoundFile, find_article_files, parse_article, read_article

NEWS_PAGE = """<!doctype html><html><head><title>Ministers meet in Brussels | Daily Planet</title>
<meta property="og:site_name" content="Daily Planet">
<meta property="article:published_time" content="2025-12-03T09:00:00Z"></head>
<body><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>
<article><h1>Ministers meet in Brussels</h1>
<p>Foreign ministers of the alliance met in Brussels on Wednesday to discuss support for Ukraine and
the financing of air defence systems for the coming winter months.</p>
<h2>Air defence</h2>
<p>Several governments pledged new air defence systems, and the secretary general welcomed the pledges
as a sign that the alliance remains united in its support for Kyiv during the negotiations.</p>
<p>Diplomats said the talks would continue at a summit planned for the summer in The Hague, where
leaders are expected to agree on defence spending targets for the next decade.</p>
</article>
<footer>Subscribe to our newsletter. Cookie settings. All rights reserved.</footer></body></html>"""


def read(path: Path, root: Path | None = None):
    return read_article(FoundFile(path, root or path.parent))


def test_seed_article_metadata_from_front_matter():
    article = read(SEEDS / SEED_DOC_ID)
    assert article.doc_id == SEED_DOC_ID
    assert article.title == "The U.S. and NATO: A Changing Dynamic Amidst Ongoing Ukraine Talks"
    assert article.source == "Keystone / dpa"
    assert article.published == "" and article.published_int is None
    assert article.text.startswith("The U.S. and NATO")
    assert "Photo: Jacquelyn Martin/Pool AP/dpa" in article.text
    assert "Source: Keystone" in article.text
    assert "---" not in article.text[:10]


def test_folders_are_searched_recursively_and_doc_ids_are_relative(tmp_path):
    (tmp_path / "world" / "europe").mkdir(parents=True)
    (tmp_path / "world" / "europe" / "a.md").write_text("# Title A\n\nBody of article A.")
    (tmp_path / "b.txt").write_text("Title B\nBody of article B.")
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "c.txt").write_text("hidden")
    found, problems = find_article_files([tmp_path])
    assert problems == []
    assert sorted(f.doc_id for f in found) == ["b.txt", "world/europe/a.md"]
    article = read_article(next(f for f in found if f.doc_id.endswith(".md")))
    assert article.title == "Title A"
    assert article.format == "markdown"


def test_html_keeps_the_article_and_drops_boilerplate():
    article = parse_article(NEWS_PAGE.encode(), "page.html", suffix=".html")
    assert "Ministers meet in Brussels" in article.title
    assert "financing of air defence systems" in article.text
    assert "summit planned for the summer" in article.text
    assert "Subscribe to our newsletter" not in article.text
    assert "Sport" not in article.text
    assert article.published == "2025-12-03"
    assert article.published_int == 20251203
    assert article.source == "Daily Planet"
    assert article.format == "markdown"


def test_content_hash_follows_text_and_metadata():
    base = parse_article(b"---\ntitle: A\n---\nSome text.", "a.txt", suffix=".txt")
    retitled = parse_article(b"---\ntitle: B\n---\nSome text.", "a.txt", suffix=".txt")
    assert base.text_hash == retitled.text_hash
    assert base.content_hash != retitled.content_hash


@pytest.mark.parametrize(
    ("data", "suffix", "message"),
    [
        (b"", ".txt", "the file is empty"),
        (b"  \n\t\n", ".md", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ".txt", "looks like a binary file, not text"),
        ("Caf\u00e9 au lait".encode("latin-1"), ".txt", "is not UTF-8 text (bad byte at position 3)"),
        (
            b"<html><body><nav><a href='/'>Home</a> <a href='/w'>World</a></nav>"
            b"<footer>Cookie settings</footer></body></html>",
            ".html",
            "no article text found in the HTML",
        ),
        (b"---\ntitle: x\n---\n   \n", ".txt", "has front matter but no article text"),
        (b"---\npublished: last week\n---\nText.", ".txt", "published date 'last week' is not YYYY-MM-DD"),
        (b"---\nthis line has no colon\n---\nText.", ".txt", "front matter line 2 is not 'key: value'"),
        (
            b"a,b,c",
            ".csv",
            "unsupported file type '.csv'; articles are .htm, .html, .markdown, .md, .txt files",
        ),
        (b"Harbour news\n\n" + b"a" * 9000 + b"\x00" * 500, ".txt", "looks like a binary file, not text"),
    ],
)
def test_bad_input_gets_a_clear_reason(data, suffix, message):
    with pytest.raises(ArticleError) as error:
        parse_article(data, "x" + suffix, suffix=suffix)
    assert str(error.value).startswith(message)


def test_bad_paths_are_reported_not_raised(tmp_path):
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    (tmp_path / "gone.txt").symlink_to(tmp_path / "deleted.txt")
    found, problems = find_article_files(
        [tmp_path / "missing", tmp_path / "notes.pdf", tmp_path / "gone.txt"]
    )
    assert found == []
    reasons = dict(problems)
    assert reasons[str(tmp_path / "missing")] == "no such file or folder"
    assert reasons[str(tmp_path / "notes.pdf")].startswith("unsupported file type; use one of")
    assert reasons[str(tmp_path / "gone.txt")].startswith("cannot be read")


def test_windows_line_endings_and_bom_are_normalised():
    article = parse_article("\ufeffTitle\r\nFirst line.\r\nSecond.".encode(), "w.txt", suffix=".txt")
    assert article.text == "Title\nFirst line.\nSecond."
    assert article.title == "Title"


def test_a_future_published_date_is_kept_in_html_as_in_front_matter():
    sentence = b"The harbour ferry runs every twenty minutes from Monday, the council said. "
    html = (
        b'<html><head><title>Harbour</title><meta property="article:published_time" content="2031-05-03">'
        b"</head><body><article><h1>Harbour ferry</h1><p>" + sentence * 5 + b"</p></article></body></html>"
    )
    assert parse_article(html, "x.html", suffix=".html").published == "2031-05-03"
    front = b"---\npublished: 2031-05-03\n---\nHarbour ferry\n\n" + sentence
    assert parse_article(front, "x.md", suffix=".md").published == "2031-05-03"


def _page(head: str) -> bytes:
    sentence = "The harbour ferry runs every twenty minutes from Monday, the council said. "
    body = f"<body><article><p>{sentence * 5}</p></article></body>"
    return f"<html><head><title>Harbour</title>{head}</head>{body}</html>".encode()


def test_a_date_the_page_states_but_that_is_no_date_is_left_out_and_said_so():
    bad = parse_article(
        _page('<meta property="article:published_time" content="2024-13-45">'), "x.html", suffix=".html"
    )
    assert bad.published == ""  # not htmldate's guess of 2024-01-01
    assert bad.notes == ("published date '2024-13-45' in the page is not a date; indexed without one",)
    ld = _page('<script type="application/ld+json">{"datePublished": "2019-02-30"}</script>')
    assert parse_article(ld, "x.html", suffix=".html").notes[0].startswith("published date '2019-02-30'")
    old = parse_article(_page('<meta name="date" content="1990-05-03">'), "x.html", suffix=".html")
    assert (old.published, old.notes) == ("1990-05-03", ())  # before 1995, as front matter allows
    worded = parse_article(
        _page('<meta property="article:published_time" content="May 3, 2019">'), "x.html", suffix=".html"
    )
    assert (worded.published, worded.notes) == ("2019-05-03", ())


def test_the_readmes_front_matter_example_parses():
    import re

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"```\n((?:\s*---\n)(?:.*\n)*?\s*---\n)\s*```", readme)
    example = (
        "\n".join(line.strip() for line in block.splitlines()) + "\nNATO news\n\nRubio skips the meeting.\n"
    )
    article = parse_article(example.encode(), "example.md", suffix=".md")
    assert article.title == "The U.S. and NATO: A Changing Dynamic Amidst Ongoing Ukraine Talks"
    assert article.source == "Keystone / dpa" and article.published == "" and article.url == "https://..."


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("title: We are #1", "We are"),  # as in YAML: a comment
        ('title: "We are #1"', "We are #1"),
        ("title: 'Issue #5' # a note", "Issue #5"),
        ("title: C# in the newsroom", "C# in the newsroom"),
    ],
)
def test_front_matter_comments_are_read_as_yaml_reads_them(line, value):
    article = parse_article(f"---\n{line}\n---\nText.".encode(), "x.md", suffix=".md")
    assert article.title == value


@pytest.mark.parametrize(
    ("text", "suffix", "title"),
    [
        ("Harbour news\n\nThe ferry leaves at nine.", ".txt", "Harbour news"),
        ("# Harbour news\n\nThe ferry leaves at nine.", ".md", "Harbour news"),
        ("The ferry leaves at nine. Tickets cost twelve euros.", ".txt", "untitled (ferry.txt)"),
        ("Jul 14, 2018 ... the ferry, which leaves,\nwas late again.", ".txt", "untitled (ferry.txt)"),
        ("A first line of more than a hundred and twenty characters is text and not a title, "
         "whatever it ends with and whatever follows it\nMore.", ".txt", "untitled (ferry.txt)"),
    ],
)  # fmt: skip
def test_an_article_without_a_title_is_untitled_with_its_file_name_not_a_fragment(text, suffix, title):
    assert parse_article(text.encode(), f"news/ferry{suffix}", suffix=suffix).title == title.replace(
        "ferry.txt", f"ferry{suffix}"
    )
