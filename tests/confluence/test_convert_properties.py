"""Property tests for the converter: any text and any storage-like XHTML converts, cleanly and deterministically."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
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
