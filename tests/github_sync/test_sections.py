"""Front matter, titles and sections: pure functions, no database."""

from __future__ import annotations

from github_sync.file_types import skip_reason
from github_sync.front_matter import parse_front_matter
from github_sync.sections import parse_document, split_lines, split_markdown, split_rst


def outline(sections):
    return [(" > ".join(s.headings), s.anchor) for s in sections]


def test_front_matter_becomes_metadata():
    metadata, body = parse_front_matter("---\ntitle: T\nlast_modified: 2025-06-01\nlabels: [a]\n---\nBody\n")
    assert metadata == {"title": "T", "last_modified": "2025-06-01", "labels": ["a"]}
    assert body == "Body\n"


def test_text_that_is_not_a_mapping_stays_in_the_body():
    for text in ("---\n- a list\n---\nBody", "---\n: bad: yaml: [\n---\nBody", "No front matter\n---\n"):
        assert parse_front_matter(text) == ({}, text)


def test_markdown_headings_nest_and_get_githubs_anchors():
    sections = split_markdown(
        "Intro\n\n# Guide\n\ntext\n\n## Install `pip`\n\nmore\n\n## Install pip\n\nagain\n\n# FAQ?\n\nq"
    )
    assert outline(sections) == [
        ("", ""),
        ("Guide", "guide"),
        ("Guide > Install pip", "install-pip"),
        ("Guide > Install pip", "install-pip-1"),
        ("FAQ?", "faq"),
    ]


def test_setext_headings_and_thematic_breaks():
    sections = split_markdown("Title\n=====\n\nintro\n\nPart\n----\n\nbody\n\n- item\n---\n\nend")
    assert outline(sections) == [("Title", "title"), ("Title > Part", "part")]
    assert "end" in sections[-1].text


def test_headings_inside_fenced_code_are_text():
    sections = split_markdown("# Real\n\n```md\n# Not a heading\n```\n\n~~~\n## Nor this\n~~~\n")
    assert outline(sections) == [("Real", "real")]


def test_restructuredtext_titles_rank_by_adornment():
    text = (
        "=====\nGuide\n=====\n\nintro\n\nInstall\n-------\n\nsteps\n\nUpgrade\n-------\n\nmore\n\nNotes\n~~~~~\n\nx\n"
    )
    sections = split_rst(text)
    assert [s.headings for s in sections] == [
        ("Guide",),
        ("Guide", "Install"),
        ("Guide", "Upgrade"),
        ("Guide", "Upgrade", "Notes"),
    ]
    assert parse_document("docs/index.rst", text).title == "Guide"


def test_source_code_is_cut_at_line_boundaries_with_line_anchors():
    text = "\n".join(f"line {n} " + "x" * 100 for n in range(1, 201))
    sections = split_lines(text)
    assert len(sections) > 1
    assert sections[0].anchor == "L1" and sections[1].anchor.startswith("L")
    assert "\n".join(s.text for s in sections) == text


def test_the_title_comes_from_front_matter_then_the_first_heading_then_the_file_name():
    assert parse_document("a.md", "---\ntitle: From meta\n---\n# Heading").title == "From meta"
    assert parse_document("a.md", "# Heading\n\ntext").title == "Heading"
    assert parse_document("src/app.py", "print(1)").title == "app.py"


def test_only_http_source_urls_are_kept():
    assert parse_document("a.md", "---\nsource_url: javascript:alert(1)\n---\n").source_url == ""
    assert parse_document("a.md", "---\nsource_url: https://x.example/p\n---\n").source_url == "https://x.example/p"


def test_what_is_skipped():
    assert skip_reason("docs/guide.md", 100) is None
    assert skip_reason("src/main.go", 100) is None
    assert skip_reason("Makefile", 100) is None
    assert skip_reason("img/logo.png", 100) == "binary"
    assert skip_reason("web/node_modules/x/index.js", 100) == "vendored"
    assert skip_reason("static/app.min.js", 100) == "generated"
    assert skip_reason("yarn.lock", 100) == "generated"
    assert skip_reason("data/export.csv", 100) == "unsupported"
    assert skip_reason("docs/huge.md", 10_000_000) == "too_large"
    assert skip_reason(".ctx/confluence-index.json", 100) == "generated"
    assert skip_reason(".ctx/confluence.yml", 100) == "generated"


def test_html_anchors_stay_out_of_titles_and_headings():
    # The Confluence converter writes an anchor macro as `<a id="…"></a>` after the heading's text.
    parsed = parse_document("page.md", '# Release process <a id="section-17"></a>\n\n## <a id="top"></a>Steps\nx\n')
    assert parsed.title == "Release process"
    assert [s.heading for s in parsed.sections] == ["Release process", "Steps"]
    assert parsed.sections[0].anchor == "release-process"
