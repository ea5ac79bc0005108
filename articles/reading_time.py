"""Reading time for article bodies, counted from the stored block data without rendering."""

import math
import re
from html import unescape

from django.utils.html import strip_tags

WORDS_PER_MINUTE = 230
WORD = re.compile(r"\w+")


def _texts(value):
    """Every string inside a block value, however deeply nested (struct and list blocks)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in NOT_PROSE:
                yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


READ_BLOCKS = {"heading", "paragraph", "quote", "key_takeaways"}
NOT_PROSE = {"level", "id", "type"}


def count_words(raw_blocks) -> int:
    """Words a reader reads in the body: text blocks only, not tables, sources or embeds."""
    words = 0
    for block in raw_blocks:
        if block.get("type") in READ_BLOCKS:
            for text in _texts(block.get("value")):
                words += len(WORD.findall(unescape(strip_tags(text))))
    return words


def reading_minutes(word_count: int) -> int:
    """Whole minutes, never zero: a short briefing still takes a minute."""
    return max(1, math.ceil(word_count / WORDS_PER_MINUTE))
