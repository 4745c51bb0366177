"""Confluence emoticons as Unicode.

Cloud stores an emoji's own character (`ac:emoji-fallback`) and code points (`ac:emoji-id`, e.g. `1f604` or
`1f468-200d-1f4bb`); Atlassian's own emoji use ids like `atlassian-check_mark`; older pages only have a
name (`ac:name="smile"`). We take the first of those that gives a character. A custom emoji (a picture
with no character) stays as its `:shortname:`.
"""

from __future__ import annotations

import re

from bs4 import Tag

from .escaping import escape

CODE_POINTS = re.compile(r"[0-9a-fA-F]{2,6}(?:-[0-9a-fA-F]{2,6})*")

NAMED = {
    "smile": "🙂", "sad": "🙁", "cheeky": "😛", "laugh": "😀", "wink": "😉", "thumbs-up": "👍",
    "thumbs-down": "👎", "information": "\u2139\ufe0f", "tick": "✅", "cross": "❌", "warning": "⚠️", "plus": "\u2795",
    "minus": "\u2796", "question": "❓", "light-on": "💡", "light-off": "💡", "yellow-star": "⭐", "red-star": "⭐",
    "green-star": "⭐", "blue-star": "⭐", "heart": "❤️", "broken-heart": "💔",
}  # fmt: skip

# Atlassian's own emoji (`ac:emoji-id="atlassian-<name>"`).
ATLASSIAN = {
    "check_mark": "✅", "cross_mark": "❌", "light_bulb_on": "💡", "light_bulb_off": "💡", "info": "\u2139\ufe0f",
    "warning": "⚠️", "question_mark": "❓", "plus": "\u2795", "minus": "\u2796", "thumbs_up": "👍", "thumbs_down": "👎",
    "yellow_star": "⭐", "red_star": "⭐", "green_star": "⭐", "blue_star": "⭐", "heart": "❤️",
    "broken_heart": "💔", "smile": "🙂", "sad": "🙁", "tongue": "😛", "laughing": "😀", "wink": "😉",
}  # fmt: skip


def emoticon_text(el: Tag) -> str:
    fallback = el.get("ac:emoji-fallback", "")
    if fallback and not fallback.isascii():
        return fallback
    emoji_id = el.get("ac:emoji-id", "")
    if CODE_POINTS.fullmatch(emoji_id):
        points = [int(point, 16) for point in emoji_id.split("-")]
        if all(p <= 0x10FFFF and not 0xD800 <= p <= 0xDFFF for p in points):
            return "".join(map(chr, points))
    if emoji_id.startswith("atlassian-") and emoji_id[10:] in ATLASSIAN:
        return ATLASSIAN[emoji_id[10:]]
    shortname = el.get("ac:emoji-shortname", "")
    if shortname:
        return shortname
    return NAMED.get(el.get("ac:name", ""), fallback)


def convert_emoticon(conv, el: Tag, parent_tags) -> str:
    text = emoticon_text(el)
    return text if "_noformat" in parent_tags else escape(text)


HANDLERS = {"ac:emoticon": convert_emoticon}
