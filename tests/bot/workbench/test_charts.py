"""The charts: SVG inline, no network, Arabic and Urdu kept as text for the browser to shape."""

import datetime as dt
import re

from bot.workbench import charts
from bot.workbench.analytics import Overview, Period


def _overview():
    period = Period(dt.date(2026, 11, 1), dt.date(2026, 11, 14))
    data = Overview(period)
    for i, day in enumerate(period.days):
        data.by_language["ar"][day] = i
        data.by_language["ur"][day] = 1
        data.by_channel["whatsapp"][day] = i + 1
    data.answers.update({"procedure.pain": 5})
    return data


def test_every_chart_is_inline_svg_with_no_external_reference():
    drawn = charts.overview_charts(_overview(), {"procedure.pain": "Does it hurt?"}, {})
    assert set(drawn) == {
        "by-language",
        "by-channel",
        "not-understood",
        "escalations-urgent",
        "escalations-personal",
        "answers",
        "unhelpful",
    }
    for name, svg in drawn.items():
        assert svg.startswith("<svg") and "<?xml" not in svg
        assert not re.search(r'(href|src)="(https?:)?//', svg), name
        assert f'<title id="{name}-title">' in svg


def test_arabic_and_urdu_labels_stay_text_with_fonts_that_have_their_letters():
    svg = charts.overview_charts(_overview(), {}, {})["by-language"]
    assert "العربية" in svg and "اردو" in svg  # text elements, not glyph outlines
    assert "Noto Naskh Arabic" in svg and "Noto Nastaliq Urdu" in svg  # the browser's fallbacks
    assert (
        charts.family_for("اردو") in charts.URDU_FAMILIES and charts.family_for("Roman Urdu") == "DejaVu Sans"
    )
