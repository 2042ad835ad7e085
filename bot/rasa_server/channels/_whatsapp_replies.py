"""Turning the bot's messages into WhatsApp Cloud API message objects.

WhatsApp has hard limits (bot/core/whatsapp_limits.py): 4096 characters of text, 1024 in the body
of a reply-button message, at most 3 reply buttons with 20-character titles, at most 10 list
rows with 24-character titles and 72-character descriptions. A message over a limit is
refused outright, so the person would get nothing; everything here keeps inside them.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Callable, Dict, List, Optional, Sequence

from bot.core.i18n import NUMBERED_CHOICE_PROMPT, TOPICS_BUTTON
from bot.core.whatsapp_limits import (
    BUTTON_BODY_LIMIT,
    LIST_BUTTON_LABEL,
    LIST_ROW_DESCRIPTION,
    LIST_ROW_ID,
    LIST_ROW_TITLE,
    LIST_SECTION_TITLE,
    MAX_LIST_ROWS,
    MAX_REPLY_BUTTONS,
    REPLY_BUTTON_ID,
    REPLY_BUTTON_TITLE,
    TEXT_LIMIT,
    units,
)

ELLIPSIS = "…"

# Where a long text may be cut, best first: between paragraphs, between lines, after a
# sentence, after a clause, between words. Arabic and Urdu end sentences with ؟ (U+061F)
# and ۔ (U+06D4, the Urdu full stop) and separate clauses with ، (U+060C) and ؛ (U+061B);
# an Arabic-script sentence has no Latin full stop to find.
_BOUNDARIES = (
    re.compile(r"\n\s*\n"),
    re.compile(r"\n"),
    re.compile(r"[.!?…؟۔।][\"'”’»)\]]*\s+"),
    re.compile(r"[,;:،؛][\"'”’»)\]]*\s+"),
    re.compile(r"\s+"),
)
# Characters a cut must not come before: they belong to the letter before them (Arabic
# vowel marks, Urdu diacritics, emoji modifiers and variation selectors, joiners).
_JOINERS = {"\u200c", "\u200d", "\u2060", "\ufe0e", "\ufe0f"}


def _fitting(text: str, limit: int) -> int:
    """How many characters of `text` fit in `limit` units."""
    total = 0
    for i, ch in enumerate(text):
        total += 2 if ord(ch) > 0xFFFF else 1
        if total > limit:
            return i
    return len(text)


def _belongs_to_previous(text: str, i: int) -> bool:
    """Whether cutting before `text[i]` would separate it from the letter it belongs to."""
    if i <= 0 or i >= len(text):
        return False
    ch, prev = text[i], text[i - 1]
    return (
        unicodedata.combining(ch) != 0
        or unicodedata.category(ch) in ("Mn", "Mc", "Me")
        or ch in _JOINERS
        or prev in ("\u200d", "\u2060")
        or 0x1F3FB <= ord(ch) <= 0x1F3FF
    )


def _safe_hard_cut(text: str, at: int) -> int:
    cut = at
    while cut > 1 and _belongs_to_previous(text, cut):
        cut -= 1
    return cut if cut > 0 else at


def _best_cut(text: str, limit: int) -> int:
    """Where to end the first chunk of `text` (characters), preferring the best boundary
    in the second half of the window so chunks are not needlessly short."""
    window = _fitting(text, limit)
    for min_start in (window // 2, 1):
        for boundary in _BOUNDARIES:
            ends = [m.end() for m in boundary.finditer(text, 0, window + 1) if m.start() >= min_start]
            # A boundary match ends after the whitespace; the chunk is stripped afterwards.
            ends = [e for e in ends if e <= window or not text[window:e].strip()]
            if ends:
                return min(ends[-1], len(text))
    return _safe_hard_cut(text, window)


def split_text(text: str, limit: int = TEXT_LIMIT) -> List[str]:
    """`text` in chunks of at most `limit` units, cut between paragraphs, sentences or
    words (in that order of preference), never inside a word unless one word is longer
    than the limit, never between a letter and its vowel mark."""
    if limit < 2:
        raise ValueError("limit must be at least 2")
    chunks: List[str] = []
    rest = text.strip()
    while rest:
        if units(rest) <= limit:
            chunks.append(rest)
            break
        cut = _best_cut(rest, limit)
        head = rest[:cut].strip()
        if not head:  # cannot happen with limit >= 2, but never loop forever
            head, cut = rest[: _fitting(rest, limit)], _fitting(rest, limit)
        chunks.append(head)
        rest = rest[cut:].strip()
    return chunks


def cut_title(title: str, limit: int) -> str:
    """`title` in at most `limit` units, cut at a word boundary with an ellipsis."""
    title = " ".join(str(title).split())
    if units(title) <= limit:
        return title
    room = _fitting(title, limit - 1)
    space = title.rfind(" ", 0, room + 1)
    cut = space if space > 0 else _safe_hard_cut(title, room)
    return title[:cut].rstrip(" ,;:،؛-–—") + ELLIPSIS


def presentation(buttons: Sequence[Dict[str, str]]) -> str:
    """How buttons are shown: `buttons` (1-3), `list` (4-10), `numbered` (more), or `none`.

    A set that cannot be shown as asked (a payload too long for an id, titles that are
    the same once cut) falls back to the next form, so the person always gets the choices.
    """
    if not buttons:
        return "none"
    payloads = [str(b.get("payload") or "") for b in buttons]
    if len(buttons) <= MAX_REPLY_BUTTONS:
        titles = [cut_title(b.get("title", ""), REPLY_BUTTON_TITLE) for b in buttons]
        if _usable(payloads, titles, REPLY_BUTTON_ID):
            return "buttons"
    if len(buttons) <= MAX_LIST_ROWS:
        titles = [cut_title(b.get("title", ""), LIST_ROW_TITLE) for b in buttons]
        if _usable(payloads, titles, LIST_ROW_ID):
            return "list"
    return "numbered"


def _usable(payloads: List[str], titles: List[str], id_limit: int) -> bool:
    return (
        all(payloads)
        and all(titles)
        and len(set(payloads)) == len(payloads)
        and len(set(titles)) == len(titles)
        and all(len(p) <= id_limit for p in payloads)
    )


def _text(body: str) -> Dict:
    return {"type": "text", "text": {"preview_url": False, "body": body}}


def build_messages(
    text: str, buttons: Sequence[Dict[str, str]], label: Callable[[str], str], text_limit: int = TEXT_LIMIT
) -> List[Dict]:
    """The Cloud API message objects (without `to`) for one bot message, in order.

    `label(msgid)` translates an interface string into the message's language.
    """
    text_limit = min(text_limit, TEXT_LIMIT)
    shown = presentation(buttons)
    if shown == "numbered":
        lines = [f"{i}. {' '.join(str(b.get('title', '')).split())}" for i, b in enumerate(buttons, 1)]
        menu = label(NUMBERED_CHOICE_PROMPT) + "\n" + "\n".join(lines)
        text = f"{text.strip()}\n\n{menu}" if text.strip() else menu
        return [_text(chunk) for chunk in split_text(text, text_limit)]
    if shown == "none":
        return [_text(chunk) for chunk in split_text(text, text_limit)] if text.strip() else []

    body_limit = min(BUTTON_BODY_LIMIT if shown == "buttons" else TEXT_LIMIT, text_limit)
    chunks = split_text(text, text_limit) or [label(TOPICS_BUTTON)]
    if units(chunks[-1]) > body_limit:
        chunks = chunks[:-1] + split_text(chunks[-1], body_limit)
    messages = [_text(chunk) for chunk in chunks[:-1]]
    if shown == "buttons":
        action = {
            "buttons": [
                {
                    "type": "reply",
                    "reply": {
                        "id": str(b["payload"]),
                        "title": cut_title(b.get("title", ""), REPLY_BUTTON_TITLE),
                    },
                }
                for b in buttons
            ]
        }
        messages.append(
            {
                "type": "interactive",
                "interactive": {"type": "button", "body": {"text": chunks[-1]}, "action": action},
            }
        )
        return messages
    rows = []
    for b in buttons:
        full = " ".join(str(b.get("title", "")).split())
        row = {"id": str(b["payload"]), "title": cut_title(full, LIST_ROW_TITLE)}
        if row["title"] != full:  # the whole title stays readable under the cut one
            row["description"] = cut_title(full, LIST_ROW_DESCRIPTION)
        rows.append(row)
    topics = label(TOPICS_BUTTON)
    action = {
        "button": cut_title(topics, LIST_BUTTON_LABEL),
        "sections": [{"title": cut_title(topics, LIST_SECTION_TITLE), "rows": rows}],
    }
    messages.append(
        {
            "type": "interactive",
            "interactive": {"type": "list", "body": {"text": chunks[-1]}, "action": action},
        }
    )
    return messages


def number_choice(text: str, buttons: Sequence[Dict[str, str]]) -> Optional[str]:
    """The payload a person chose by typing its number ("2", "٢", "۲", "2."), if they did.

    Only for choices that were shown numbered: elsewhere a bare number is not a choice.
    """
    if presentation(buttons) != "numbered":
        return None
    candidate = text.strip().rstrip(".)-").strip()
    if not candidate or len(candidate) > 3 or not all(ch.isdecimal() for ch in candidate):
        return None
    # int() reads Arabic-Indic (٠-٩) and Urdu (۰-۹) digits as well as 0-9.
    index = int(candidate)
    if 1 <= index <= len(buttons):
        return str(buttons[index - 1].get("payload") or "") or None
    return None
