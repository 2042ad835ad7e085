"""WhatsApp Cloud API's hard limits, and how it counts a text's length.

https://developers.facebook.com/docs/whatsapp/cloud-api/messages: a message over a limit is
refused outright, so the person would get nothing. The channel keeps every reply inside them
(bot/rasa_server/channels/_whatsapp_replies.py) and `make validate` refuses content that could not fit
(bot/tools/content/answer_rules.py, catalog_rules.py, the answer store's titles).
"""

from __future__ import annotations

TEXT_LIMIT = 4096  # one text message, either way
BUTTON_BODY_LIMIT = 1024  # the text above reply buttons
REPLY_BUTTON_TITLE = 20
REPLY_BUTTON_ID = 256
MAX_REPLY_BUTTONS = 3
LIST_ROW_TITLE = 24
LIST_ROW_DESCRIPTION = 72
LIST_ROW_ID = 200
LIST_BUTTON_LABEL = 20
LIST_SECTION_TITLE = 24
MAX_LIST_ROWS = 10


def units(text: str) -> int:
    """Length as WhatsApp counts it: UTF-16 code units, so an emoji counts as two (the safe side)."""
    return len(text.encode("utf-16-le")) // 2
