"""Structure-aware chunking: headings, code fences, paragraphs, token windows with overlap, code units, pages."""

from __future__ import annotations

import itertools

import pytest
from k2_host.rag.chunking import Chunker, approx_tokens, code_blocks, markdown_blocks, text_blocks
from k2_host.rag.extract import PAGE_BREAK, html_to_text

MD = """# Guide

Intro paragraph.

## Install

Run the installer.

```python
def main():

    return 1
```

### Linux

Use the package.

Setext title
------------

Under setext.
"""


def test_markdown_blocks_carry_their_heading_path_and_keep_fenced_code_whole() -> None:
    blocks = markdown_blocks(MD)
    assert [(b.text, b.heading_path, b.code) for b in blocks] == [
        ("Intro paragraph.", ["Guide"], False),
        ("Run the installer.", ["Guide", "Install"], False),
        ("```python\ndef main():\n\n    return 1\n```", ["Guide", "Install"], True),
        ("Use the package.", ["Guide", "Install", "Linux"], False),
        ("Under setext.", ["Guide", "Setext title"], False),
    ]


def test_block_offsets_point_at_the_block_text_in_the_document() -> None:
    for b in markdown_blocks(MD) + code_blocks("x = 1\n\n\ndef f():\n    pass\n") + text_blocks("\n\na b\n\n\fc d\n"):
        assert b.text
    for b in markdown_blocks(MD):
        assert MD[b.start : b.end] == b.text


def test_chunks_pack_blocks_under_one_heading_and_split_at_heading_changes() -> None:
    chunks = Chunker(200, 10).chunk(MD, "markdown")
    assert [c.heading_path for c in chunks] == [
        ["Guide"],
        ["Guide", "Install"],
        ["Guide", "Install", "Linux"],
        ["Guide", "Setext title"],
    ]
    assert chunks[1].text.startswith("Run the installer.\n\n```python")
    assert [c.index for c in chunks] == [0, 1, 2, 3]
    assert chunks[0].embed_text() == "Guide\nIntro paragraph."


def test_a_long_paragraph_becomes_overlapping_windows_within_the_budget() -> None:
    sentences = [f"Sentence number {i} talks about topic {i} at some length here." for i in range(60)]
    text = " ".join(sentences)
    chunker = Chunker(64, 16)
    chunks = chunker.chunk(text, "text")
    assert len(chunks) > 3
    assert all(approx_tokens(c.text) <= 64 for c in chunks)
    for a, b in itertools.pairwise(chunks):
        assert b.start < a.end  # consecutive windows overlap
        assert text[b.start : a.end].strip() in a.text
    assert chunks[0].text.startswith("Sentence number 0 ")
    assert chunks[-1].text.endswith("Sentence number 59 talks about topic 59 at some length here.")


def test_a_single_huge_word_run_is_cut_by_words() -> None:
    text = " ".join(f"w{i}" for i in range(1000))
    chunks = Chunker(50, 5).chunk(text, "text")
    assert all(approx_tokens(c.text) <= 50 for c in chunks)
    assert chunks[-1].text.endswith("w999")


def test_code_is_cut_into_top_level_units_named_after_their_definition() -> None:
    code = "import os\n\n\nclass Store:\n    def get(self):\n\n        return 1\n\n\n@cache\ndef load():\n    pass\n"
    blocks = code_blocks(code, ["store.py"])
    assert [(b.heading_path, b.text.splitlines()[0]) for b in blocks] == [
        (["store.py"], "import os"),
        (["store.py", "Store"], "class Store:"),
        (["store.py", "load"], "@cache"),
    ]


def test_pdf_pages_are_numbered_from_the_form_feeds() -> None:
    text = PAGE_BREAK.join(["First page text.", "Second page text.", "Third."])
    chunks = Chunker(8, 2).chunk(text, "pdf")
    assert [(c.text, c.page) for c in chunks] == [("First page text.", 1), ("Second page text.", 2), ("Third.", 3)]


def test_html_becomes_markdown_headings_without_scripts_navigation_or_footer() -> None:
    html = (
        "<html><head><title>T</title><style>p{}</style></head><body><nav>menu</nav><h1>Top</h1><p>One &amp; two</p>"
        "<h2>Sub</h2><ul><li>a</li><li>b</li></ul><pre>x  =  1\n  y</pre><footer>legal</footer></body></html>"
    )
    text, title = html_to_text(html)
    assert title == "T"
    assert text == "# Top\n\nOne & two\n\n## Sub\n\n- a\n- b\n\n```\nx  =  1\n  y\n```"
    assert [b.heading_path for b in markdown_blocks(text)] == [["Top"], ["Top", "Sub"], ["Top", "Sub"]]


def test_the_heading_path_counts_against_the_token_budget() -> None:
    root = ["a very long title " * 5]
    chunks = Chunker(40, 4).chunk("word " * 200, "text", root=root)
    assert all(approx_tokens(c.embed_text()) <= 41 for c in chunks)


def test_overlap_must_be_smaller_than_the_window() -> None:
    with pytest.raises(ValueError, match="overlap"):
        Chunker(10, 10)


def test_empty_and_blank_documents_make_no_chunks() -> None:
    assert Chunker().chunk("", "markdown") == []
    assert Chunker().chunk("\n\n  \n", "text") == []
