"""Property tests for the converter: any text and any storage-like XHTML converts, cleanly and deterministically."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from confluence.convert import ConvertContext, convert

CONTEXT = ConvertContext(site_url="https://acme.atlassian.net", page_id="42", space_key="ENG")
STORAGE_MARKUP = re.compile(r"</?(ac|ri|at):|CDATA\[")
BOUNDED = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

words = st.text(
    alphabet=st.sampled_from([*"abc XYZ <>&\"'*_`#|[]()!\\\n\t", "é", "中", "😀", "\u202e", "\x00"]),
    max_size=20,
)
entities = st.sampled_from(["&nbsp;", "&rarr;", "&amp;", "&lt;", "&hellip;", "&bogus;", "&#8212;", "&"])
text_node = st.one_of(words.map(lambda s: s.replace("<", "&lt;").replace("&", "&amp;")), entities, words)
# Text the author wrote (CDATA, attribute values) holds no markup-like words: the converter keeps such text
# as text, so "<ac:" inside a code block would be right, and is not what these tests look for.
cdata = st.lists(words | st.just("]]>"), max_size=4).map("".join)
title = words.map(lambda s: s.replace('"', "").replace("<", "").replace("&", ""))


def wrap(tag: str, attrs: str = "", *, close: bool = True):
    return lambda inner: f"<{tag}{attrs}>{inner}" + (f"</{tag.split()[0]}>" if close else "")


def macro(name: str, inner: str, body: str) -> str:
    parameter = '<ac:parameter ac:name="title">T &rarr; x</ac:parameter>'
    return f'<ac:structured-macro ac:name="{name}" ac:schema-version="1">{parameter}{body.format(inner=inner)}' + (
        "</ac:structured-macro>"
    )


def nested(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    joined = st.lists(children, min_size=1, max_size=3).map("".join)
    macro_name = st.sampled_from(["code", "info", "expand", "jira", "unknown"])
    rich = "<ac:rich-text-body>{inner}</ac:rich-text-body>"
    return st.one_of(
        joined.map(wrap("p")),
        joined.map(wrap("strong")),
        joined.map(wrap("p", close=False)),  # unclosed
        st.lists(joined, min_size=1, max_size=3).map(
            lambda items: "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"
        ),
        st.tuples(joined, st.integers(0, 4)).map(
            lambda args: (
                f'<table><tbody><tr><th colspan="{args[1]}">h</th><th>i</th></tr>'
                f"<tr><td>{args[0]}</td><td>x</td></tr></tbody></table>"
            )
        ),
        st.tuples(macro_name, joined).map(lambda args: macro(args[0], args[1], rich)),
        st.tuples(macro_name, cdata).map(
            lambda args: macro(args[0], "", f"<ac:plain-text-body><![CDATA[{args[1]}]]></ac:plain-text-body>")
        ),
        st.tuples(title, cdata).map(
            lambda args: (
                f'<ac:link><ri:page ri:content-title="{args[0]}" ri:space-key="ENG" />'
                f"<ac:plain-text-link-body><![CDATA[{args[1]}]]></ac:plain-text-link-body></ac:link>"
            )
        ),
        st.just('<ac:image ac:width="200"><ri:attachment ri:filename="a b.png" /></ac:image>'),
        joined.map(
            lambda inner: (
                "<ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-status>incomplete"
                f"</ac:task-status><ac:task-body>{inner}</ac:task-body></ac:task></ac:task-list>"
            )
        ),
        joined.map(lambda inner: f"<ac:rich-text-body>{inner}"),  # an ac: element left unclosed
    )


storage = st.recursive(text_node, nested, max_leaves=12)


@BOUNDED
@given(st.text(max_size=500))
def test_it_never_raises_on_arbitrary_text(text):
    result = convert(text, CONTEXT)

    assert isinstance(result.markdown, str)


@BOUNDED
@given(storage)
def test_it_never_raises_on_storage_like_markup(body):
    result = convert(body, CONTEXT)

    assert isinstance(result.markdown, str)


@BOUNDED
@given(storage)
def test_it_leaves_no_storage_markup_in_the_markdown(body):
    result = convert(body, CONTEXT)

    assert not STORAGE_MARKUP.search(result.markdown), result.markdown


@BOUNDED
@given(storage)
def test_it_converts_the_same_input_to_the_same_output(body):
    first, second = convert(body, CONTEXT), convert(body, CONTEXT)

    assert first.markdown == second.markdown
    assert first.warnings == second.warnings


# -- malformed storage: valid pages, mutilated ----------------------------------------------------------------
#
# A valid page is built from storage-format blocks whose visible text is made of unique words ("w0x", "w1x",
# …; none is part of another). It is then mutilated as broken pages are: closing tags dropped, `/>` left
# unclosed, CDATA sections left open, the page cut short. Whatever happens, the Markdown holds no storage
# markup and every word the mutilated page still holds in full.

SLOT = "{}"
BLOCKS = [
    "<p>{} <strong>{}</strong> {}</p>",
    "<h2>{}</h2>",
    "<ul><li>{}</li><li>{} <em>{}</em></li></ul>",
    "<table><tbody><tr><th>{}</th><th>{}</th></tr><tr><td>{}</td><td><p>{}</p></td></tr></tbody></table>",
    '<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">python</ac:parameter>'
    "<ac:plain-text-body><![CDATA[{} = {}]]></ac:plain-text-body></ac:structured-macro>",
    '<ac:structured-macro ac:name="noformat"><ac:plain-text-body><![CDATA[{}]]></ac:plain-text-body>'
    "</ac:structured-macro>",
    '<p><ac:link><ri:page ri:content-title="Some Page" ri:space-key="ENG" /><ac:plain-text-link-body>'
    "<![CDATA[{}]]></ac:plain-text-link-body></ac:link> {}</p>",
    '<p><ac:link ac:anchor="top"><ri:page ri:content-title="Other" /><ac:link-body>{} <strong>{}</strong>'
    "</ac:link-body></ac:link></p>",
    '<p>{} <ac:image ac:alt="x"><ri:attachment ri:filename="a.png" /></ac:image> <ac:emoticon ac:name="tick" /> '
    '<ac:link><ri:user ri:account-id="557058:x" /></ac:link> {}</p>',
    "<ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-status>complete</ac:task-status>"
    "<ac:task-body>{}</ac:task-body></ac:task></ac:task-list>",
    '<ac:structured-macro ac:name="view-file"><ac:parameter ac:name="name"><ri:attachment ri:filename="f.pdf" />'
    "</ac:parameter></ac:structured-macro><p>{}</p>",
]
CONTAINERS = [
    '<ac:structured-macro ac:name="info"><ac:parameter ac:name="title">T</ac:parameter><ac:rich-text-body>'
    "{}</ac:rich-text-body></ac:structured-macro>",
    '<ac:structured-macro ac:name="expand"><ac:rich-text-body>{}</ac:rich-text-body></ac:structured-macro>',
    '<ac:structured-macro ac:name="mystery"><ac:parameter ac:name="x">y</ac:parameter><ac:rich-text-body>{}'
    "</ac:rich-text-body></ac:structured-macro>",
    '<ac:layout><ac:layout-section ac:type="two_equal"><ac:layout-cell>{}</ac:layout-cell>'
    "<ac:layout-cell><p>w</p></ac:layout-cell></ac:layout-section></ac:layout>",
    "<blockquote>{}</blockquote>",
]
CLOSING_TAG = re.compile(r"</[\w:-]+>")


def page_template(blocks: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    nested = st.tuples(st.sampled_from(CONTAINERS), st.lists(blocks, min_size=1, max_size=3))
    return st.one_of(blocks, nested.map(lambda args: args[0].replace(SLOT, "".join(args[1]))))


templates = st.recursive(st.sampled_from(BLOCKS), page_template, max_leaves=8)
pages = st.lists(templates, min_size=1, max_size=6).map("".join)


def fill(template: str) -> tuple[str, list[str]]:
    """The template with a unique word in each slot, and the words (the layout cell's "w" is not one)."""
    pieces = template.split(SLOT)
    words = [f"w{n}x" for n in range(len(pieces) - 1)]
    return "".join(piece + word for piece, word in zip(pieces, [*words, ""], strict=True)), words


mutilation = st.one_of(
    st.tuples(st.just("drop closing tag"), st.integers(0, 10_000)),
    st.tuples(st.just("leave /> open"), st.integers(0, 10_000)),
    st.tuples(st.just("leave CDATA open"), st.integers(0, 10_000)),
)


def nth(matches: list, index: int):
    return matches[index % len(matches)] if matches else None


def mutilate(storage: str, kind: str, index: int) -> str:
    if kind == "drop closing tag":
        match = nth(list(CLOSING_TAG.finditer(storage)), index)
        return storage[: match.start()] + storage[match.end() :] if match else storage
    token, replacement = ("/>", ">") if kind == "leave /> open" else ("]]>", "")
    starts = [m.start() for m in re.finditer(re.escape(token), storage)]
    at = nth(starts, index)
    return storage if at is None else storage[:at] + replacement + storage[at + len(token) :]


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pages, st.lists(mutilation, max_size=3), st.one_of(st.none(), st.floats(0, 1)))
# Found by this test: an open CDATA section cut inside its element's end tag (`…w0x</ac:`) kept the cut tag as code.
@example(
    template='<ac:structured-macro ac:name="noformat"><ac:plain-text-body><![CDATA[{}]]></ac:plain-text-body>'
    "</ac:structured-macro>",
    mutilations=[("drop closing tag", 1), ("leave CDATA open", 0)],
    cut=0.8333,
)
def test_it_keeps_every_word_and_no_markup_of_mutilated_storage(template, mutilations, cut):
    storage, words = fill(template)
    for kind, index in mutilations:
        storage = mutilate(storage, kind, index)
    if cut is not None:
        storage = storage[: int(len(storage) * cut)]
    kept = [word for word in words if word in storage]  # words are unique, and none is part of another

    markdown = convert(storage, CONTEXT).markdown

    assert not STORAGE_MARKUP.search(markdown), markdown
    missing = [word for word in kept if word not in markdown]
    assert not missing, (missing, storage, markdown)


def nested(draw_tags: list[tuple[str, str]]) -> str:
    """Elements nested in one another, each with its own text before the next: (tag, text) outermost first."""
    return "".join(f"<{tag}>{text}" for tag, text in draw_tags) + "".join(f"</{tag}>" for tag, _ in draw_tags[::-1])


@given(
    st.lists(st.tuples(st.sampled_from(["div", "p", "b", "ul", "li", "td"]), st.text("ab ", max_size=3)), max_size=30),
    st.integers(0, 8),
)
def test_flattening_deep_nesting_keeps_every_text_in_order_and_no_element_deeper_than_the_limit(levels, limit):
    from bs4 import BeautifulSoup, Tag

    from confluence.convert.storage import flatten_deep_nesting

    soup = BeautifulSoup(nested(levels) * 2, "html.parser")
    text, elements = soup.get_text(), len(soup.find_all(True))

    gone = flatten_deep_nesting(soup, limit)

    def depth(tag: Tag) -> int:
        return len([parent for parent in tag.parents if parent is not soup and isinstance(parent, Tag)])

    assert soup.get_text() == text and len(soup.find_all(True)) == elements - gone
    assert all(depth(tag) <= limit for tag in soup.find_all(True))
