"""The overview's charts: matplotlib, drawn on the server as SVG and put inline in the page.

No script, no CDN, no network: the page works on a machine that is offline. Text stays
text in the SVG (`svg.fonttype: none`), so the browser shapes Arabic and Urdu labels
itself (matplotlib would draw them letter by letter, unjoined and left to right), with
Debian's Noto fonts when they are installed (fonts-noto-core, `make browser`), else any
font the browser has.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import matplotlib

matplotlib.use("Agg")  # never a window; must come before anything imports pyplot

from matplotlib import font_manager  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import MaxNLocator, PercentFormatter  # noqa: E402

from bot.core.normalize import ARABIC_SCRIPT  # noqa: E402
from bot.workbench.analytics import FORM_LABELS, Overview  # noqa: E402

PALETTE = (
    "#1b6ca8",
    "#d1495b",
    "#edae49",
    "#00798c",
    "#66a182",
    "#8d6a9f",
    "#2e4057",
    "#c97b84",
    "#6c757d",
    "#b5838d",
)
FORM_COLOURS = {
    "en": "#1b6ca8",
    "ar": "#00798c",
    "ur": "#d1495b",
    "roman_ur": "#edae49",
    "unknown": "#6c757d",
}
CHANNEL_COLOURS = {"webchat": "#1b6ca8", "whatsapp": "#25a244"}
# What the browser should use for each script; the first is the one matplotlib measures with.
LATIN_FAMILY = "DejaVu Sans"
ARABIC_FAMILIES = ("Noto Naskh Arabic", "Noto Sans Arabic", "DejaVu Sans")
URDU_FAMILIES = ("Noto Nastaliq Urdu", "Noto Naskh Arabic", "Noto Sans Arabic", "DejaVu Sans")
CSS_FALLBACK = "'Noto Sans', 'Noto Naskh Arabic', 'Noto Nastaliq Urdu', 'DejaVu Sans', sans-serif"
_LATIN = re.compile("[A-Za-z]")
_URDU_LETTERS = re.compile("[ٹڈڑںےھہۓ]")
_RC = {
    "svg.fonttype": "none",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "legend.frameon": False,
}


NOTO_DIR = Path("/usr/share/fonts/truetype/noto")
NOTO_FILES = ("NotoNaskhArabic-Regular.ttf", "NotoSansArabic-Regular.ttf", "NotoNastaliqUrdu-Regular.ttf")


def _register_noto() -> None:
    """matplotlib's font list is cached on first use; fonts installed later (make browser)
    are added here rather than by rebuilding the cache."""
    known = {Path(f.fname).name for f in font_manager.fontManager.ttflist}
    for name in NOTO_FILES:
        if name not in known and (NOTO_DIR / name).exists():
            try:
                font_manager.fontManager.addfont(str(NOTO_DIR / name))
            except (OSError, RuntimeError, ValueError):
                pass  # an unreadable font: the browser still has its own


_register_noto()


@lru_cache(maxsize=None)
def installed(family: str) -> bool:
    try:
        font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
        return True
    except ValueError:
        return False


def family_for(text: str) -> str:
    """The installed font to measure `text` with: one with Arabic or Urdu letters when it has them."""
    if not ARABIC_SCRIPT.search(text) or _LATIN.search(text):
        return LATIN_FAMILY  # Latin or mixed: DejaVu Sans has both (matplotlib 3.5 has no per-glyph fallback)
    wanted = URDU_FAMILIES if _URDU_LETTERS.search(text) else ARABIC_FAMILIES
    return next((f for f in wanted if installed(f)), LATIN_FAMILY)


def _svg(fig: Figure, name: str) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context({**_RC, "svg.hashsalt": name}):
        fig.savefig(buffer, format="svg")
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]  # inline: no XML declaration or doctype
    # each font named in the SVG, then the fallbacks, so the browser finds Arabic and Urdu glyphs
    svg = re.sub(r"font-family:([^;\"]+)", lambda m: f"font-family:{m.group(1).strip()}, {CSS_FALLBACK}", svg)
    svg = re.sub(r"(font: [^;\"]*?)'([^']+)'", lambda m: f"{m.group(1)}'{m.group(2)}', {CSS_FALLBACK}", svg)
    return svg.replace("<svg ", f'<svg role="img" aria-labelledby="{name}-title" ', 1).replace(
        ">",
        f'><title id="{name}-title">{fig._suptitle_text if hasattr(fig, "_suptitle_text") else name}</title>',
        1,
    )


def _figure(width: float = 8.4, height: float = 2.7, left: float = 0.07, right: float = 0.78) -> Figure:
    """Fixed margins (the legend on the right): a "tight" layout would draw everything twice."""
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(width, height), dpi=100)
        fig.subplots_adjust(left=left, right=right, top=0.88, bottom=0.14)
        return fig


def _label_fonts(texts) -> None:
    for text in texts:
        family = family_for(text.get_text())
        if family != LATIN_FAMILY:
            text.set_fontfamily(family)


def _date_axis(ax, days: Sequence[dt.date]) -> None:
    ax.set_xlim(-0.6, len(days) - 0.4)
    step = max(1, len(days) // 8)
    ticks = list(range(0, len(days), step))
    ax.set_xticks(ticks)
    ax.set_xticklabels([days[i].strftime("%d %b") for i in ticks])
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))


def _stack(
    ax,
    positions: Sequence[int],
    series: Sequence[Tuple[str, Sequence[int], str]],
    horizontal: bool = False,
    thickness: float = 0.85,
) -> Tuple[list, int]:
    """Stacked bars, one PolyCollection per series (one artist instead of a patch per bar: the
    charts draw twice as fast); (legend handles, the tallest stack)."""
    base = [0] * len(positions)
    handles = []
    half = thickness / 2
    for label, values, colour in series:
        verts = []
        for pos, start, value in zip(positions, base, values):
            if value:
                a, b = start, start + value
                verts.append(
                    [(a, pos - half), (b, pos - half), (b, pos + half), (a, pos + half)]
                    if horizontal
                    else [(pos - half, a), (pos + half, a), (pos + half, b), (pos - half, b)]
                )
        ax.add_collection(PolyCollection(verts, facecolors=colour, edgecolors="none", label=label))
        handles.append(Patch(facecolor=colour, label=label))
        base = [x + v for x, v in zip(base, values)]
    return handles, max(base, default=0)


def stacked_days(
    title: str,
    days: Sequence[dt.date],
    series: Mapping[str, Mapping[dt.date, int]],
    labels: Mapping[str, str],
    colours: Mapping[str, str],
    name: str,
    ylabel: str = "messages",
) -> str:
    with matplotlib.rc_context(_RC):
        fig = _figure()
        ax = fig.add_subplot()
        parts = [
            (
                labels.get(key, key),
                [series[key].get(day, 0) for day in days],
                colours.get(key, PALETTE[i % len(PALETTE)]),
            )
            for i, key in enumerate(series)
        ]
        handles, top = _stack(ax, range(len(days)), parts)
        ax.set_ylim(0, max(top, 1) * 1.08)
        _date_axis(ax, days)
        ax.set_title(title, loc="left")
        ax.set_ylabel(ylabel)
        if series:
            _label_fonts(ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0)).get_texts())
        else:
            ax.text(0.5, 0.5, "nothing in this period", transform=ax.transAxes, ha="center", color="#6c757d")
        fig._suptitle_text = title
        return _svg(fig, name)


def weekly_share(
    title: str, weeks: Sequence[dt.date], shares: Mapping[str, Mapping[dt.date, Optional[float]]], name: str
) -> str:
    with matplotlib.rc_context(_RC):
        fig = _figure()
        ax = fig.add_subplot()
        for form, by_week in shares.items():
            xs = [i for i, w in enumerate(weeks) if by_week.get(w) is not None]
            ax.plot(
                xs,
                [by_week[weeks[i]] for i in xs],
                marker="o",
                label=FORM_LABELS.get(form, form),
                color=FORM_COLOURS.get(form, "#6c757d"),
            )
        ax.set_xlim(-0.5, max(len(weeks) - 0.5, 0.5))
        ax.set_xticks(range(len(weeks)))
        ax.set_xticklabels([f"wk {w:%d %b}" for w in weeks], rotation=0 if len(weeks) < 7 else 45)
        ax.set_ylim(0, 1)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_title(title, loc="left")
        if shares:
            _label_fonts(ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0)).get_texts())
        else:
            ax.text(
                0.5,
                0.5,
                "no typed message in this period",
                transform=ax.transAxes,
                ha="center",
                color="#6c757d",
            )
        fig._suptitle_text = title
        return _svg(fig, name)


def ranking(
    title: str, rows: List[Tuple[str, Dict[str, int]]], colours: Mapping[str, str], name: str, xlabel: str
) -> str:
    """Horizontal bars, largest on top; each row's parts stacked (e.g. per channel)."""
    with matplotlib.rc_context(_RC):
        longest = max((len(label) for label, _ in rows), default=10)
        fig = _figure(
            8.4, max(1.7, 0.26 * len(rows) + 0.9), left=min(0.6, 0.02 + longest * 0.0085), right=0.96
        )
        fig.subplots_adjust(bottom=0.5 / fig.get_figheight() + 0.05, top=1 - 0.35 / fig.get_figheight())
        ax = fig.add_subplot()
        parts = sorted({part for _, values in rows for part in values})
        ys = list(range(len(rows)))[::-1]
        handles, top = _stack(
            ax,
            ys,
            [
                (
                    part,
                    [values.get(part, 0) for _, values in rows],
                    colours.get(part, PALETTE[i % len(PALETTE)]),
                )
                for i, part in enumerate(parts)
            ],
            horizontal=True,
            thickness=0.7,
        )
        ax.set_xlim(0, max(top, 1) * 1.05)
        ax.set_ylim(-0.6, max(len(rows), 1) - 0.4)
        ax.set_yticks(ys)
        ax.set_yticklabels([label for label, _ in rows])
        _label_fonts(ax.get_yticklabels())
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
        ax.set_xlabel(xlabel)
        ax.set_title(title, loc="left")
        if len(parts) > 1:
            ax.legend(handles=handles, loc="lower right")
        if not rows:
            ax.text(0.5, 0.5, "nothing in this period", transform=ax.transAxes, ha="center", color="#6c757d")
            ax.set_yticks([])
        fig._suptitle_text = title
        return _svg(fig, name)


def overview_charts(
    data: Overview, answer_titles: Mapping[str, str], region_names: Mapping[str, str]
) -> Dict[str, str]:
    """Every chart of the overview page, by name."""
    days = data.period.days
    forms = {
        f: data.by_language[f] for f in sorted(data.by_language, key=lambda f: (f not in FORM_COLOURS, f))
    }
    charts = {
        "by-language": stacked_days(
            "Messages per day by language", days, forms, FORM_LABELS, FORM_COLOURS, "by-language"
        ),
        "by-channel": stacked_days(
            "Messages per day by channel",
            days,
            dict(sorted(data.by_channel.items())),
            {"webchat": "website widget", "whatsapp": "WhatsApp"},
            CHANNEL_COLOURS,
            "by-channel",
        ),
        "not-understood": weekly_share(
            "Share of typed messages not understood, per language and week",
            data.weeks,
            data.not_understood_share(),
            "not-understood",
        ),
    }
    for kind, title in (
        ("urgent", "Urgent-care escalations per day, by region"),
        ("personal", "Sent to a clinician per day, by region"),
    ):
        series = dict(sorted(data.escalations[kind].items()))
        labels = {code: region_names.get(code, code) for code in series}
        charts[f"escalations-{kind}"] = stacked_days(
            title, days, series, labels, {}, f"escalations-{kind}", "messages"
        )
    given = [(f"{answer_titles.get(a, a)} ({a})", {"replies": n}) for a, n in data.top_answers()]
    charts["answers"] = ranking(
        "Answers most often given", given, {"replies": "#1b6ca8"}, "answers", "replies"
    )
    unhelpful = [
        (f"{answer_titles.get(a, a)} ({a})", {{"webchat": "widget"}.get(ch, ch): n for ch, n in per.items()})
        for a, per, _ in data.top_unhelpful()
    ]
    charts["unhelpful"] = ranking(
        "Answers most often marked unhelpful",
        unhelpful,
        {"widget": "#d1495b", "whatsapp": "#edae49"},
        "unhelpful",
        "not helpful",
    )
    return charts
