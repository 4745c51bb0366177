"""Confluence emoticons as Unicode.

Cloud stores an emoji's own character (`ac:emoji-fallback`) and code points (`ac:emoji-id`, e.g. `1f604` or
`1f468-200d-1f4bb`); Atlassian's own emoji use ids like `atlassian-check_mark`; older pages only have a
name (`ac:name="smile"`), one of the 22 emoticons the storage-format reference lists. We take the first of
those that gives a character. Anything else keeps its name as text: a custom emoji (a picture with no
character) as its `:shortname:`, an emoticon we do not know as `:its-name:`, so it never vanishes.
"""

from __future__ import annotations

import re

from bs4 import Tag

from .escaping import escape

CODE_POINTS = re.compile(r"[0-9a-fA-F]{2,6}(?:-[0-9a-fA-F]{2,6})*")
SEPARATORS = re.compile(r"[-\s]+")

INFO, TICK, CROSS, WARNING = "\u2139\ufe0f", "✅", "❌", "⚠️"
PLUS, MINUS, QUESTION, BULB, STAR = "\u2795", "\u2796", "❓", "💡", "⭐"

# Keyed by name with `_` for `-`: the storage format's emoticon names (`thumbs-up` → `thumbs_up`), Atlassian's
# emoji ids and short names (`atlassian-light_bulb_on`, `:light_bulb_on:`), the names of Confluence's emoticon
# images (`star_yellow`, `lightbulb_on`), which older exports and wiki-markup converters write, and the short
# names the Cloud editor gives the emoticons it converts from wiki markup (`(y)` → `:thumbsup:`).
EMOTICONS = {
    # The storage-format reference's emoticons, in its order.
    "smile": "🙂", "sad": "🙁", "cheeky": "😛", "laugh": "😀", "wink": "😉", "thumbs_up": "👍", "thumbs_down": "👎",
    "information": INFO, "tick": TICK, "cross": CROSS, "warning": WARNING, "plus": PLUS, "minus": MINUS,
    "question": QUESTION, "light_on": BULB, "light_off": BULB, "yellow_star": STAR, "red_star": STAR,
    "green_star": STAR, "blue_star": STAR, "heart": "❤️", "broken_heart": "💔",
    # Atlassian's own emoji (`atlassian-<name>`), for the wiki-markup emoticons and flags.
    "info": INFO, "check_mark": TICK, "cross_mark": CROSS, "question_mark": QUESTION, "light_bulb_on": BULB,
    "light_bulb_off": BULB, "flag_on": "🚩", "flag_off": "🏳️", "tongue": "😛", "laughing": "😀",
    # Confluence's emoticon images.
    "star_yellow": STAR, "star_red": STAR, "star_green": STAR, "star_blue": STAR, "lightbulb_on": BULB,
    "lightbulb": BULB, "lightbulb_off": BULB, "check": TICK, "error": CROSS, "add": PLUS, "forbidden": MINUS,
    "help": QUESTION, "help_16": QUESTION, "biggrin": "😀", "flag": "🚩", "flagoff": "🏳️",
    # The Cloud editor's short names for wiki-markup emoticons.
    "slight_smile": "🙂", "disappointed": "😞", "stuck_out_tongue": "😛", "smiley": "😃", "thumbsup": "👍",
    "thumbsdown": "👎",
}  # fmt: skip


def known(name: str) -> str | None:
    """The character for an emoticon name, id or short name, in any of the spellings above."""
    key = SEPARATORS.sub("_", name.strip().strip(":").lower()).removeprefix("atlassian_")
    return EMOTICONS.get(key)


def emoticon_text(el: Tag) -> str:
    fallback = el.get("ac:emoji-fallback", "").strip()
    if fallback and not fallback.isascii():
        return fallback
    emoji_id = el.get("ac:emoji-id", "").strip()
    if CODE_POINTS.fullmatch(emoji_id):
        points = [int(point, 16) for point in emoji_id.split("-")]
        if all(p <= 0x10FFFF and not 0xD800 <= p <= 0xDFFF for p in points):
            return "".join(map(chr, points))
    if emoji_id.startswith("atlassian-") and known(emoji_id[10:]):
        return known(emoji_id[10:])
    shortname = el.get("ac:emoji-shortname", "").strip()
    if shortname:
        # A short name with no character of its own is a custom emoji: its name is all there is to show.
        return known(shortname) or shortname
    name = el.get("ac:name", "").strip()
    if name:
        return known(name) or fallback or f":{name}:"
    return fallback


def convert_emoticon(conv, el: Tag, parent_tags) -> str:
    text = emoticon_text(el)
    return text if "_noformat" in parent_tags else escape(text)


HANDLERS = {"ac:emoticon": convert_emoticon}
