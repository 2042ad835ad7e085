"""The built-in urgent reply (`utter_urgent_offline` in domain.yml), generated from regions.yml.

The Rasa server sends it itself when a reported reaction gets no answer because the
action server is down or slow (bot/rasa_server/channels/_offline.py). It lists every region's
emergency numbers, so it must never drift from `data/answers/regions.yml`: this module
builds it from that file (`python -m bot offline-reply` / `make offline-reply` rewrites
the block in domain.yml, keeping the rest of the file), and `make validate` reports a
domain.yml that is out of step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional

from bot import LANGUAGES
from bot.core._yaml import YamlFileError, load_yaml_with_lines
from bot.core.language import direction
from bot.core.problems import Problem
from bot.core.regions import RegionTable, load_regions
from bot.tools.content.yaml_edit import YamlEditor, render

RESPONSE = "utter_urgent_offline"  # bot/rasa_server/channels/_offline.py OFFLINE_URGENT
ANSWER_ID = "safety.urgent"
KIND = "urgent"
TEMPLATE_KEY = "offline_reply"


def _template(regions_file: Path, problems: List[Problem]) -> Optional[dict]:
    try:
        raw, _ = load_yaml_with_lines(regions_file)
    except (YamlFileError, OSError) as err:
        problems.append(Problem(regions_file, getattr(err, "line", 1), str(getattr(err, "message", err))))
        return None
    block = raw.get(TEMPLATE_KEY) if isinstance(raw, dict) else None
    line = getattr(raw, "key_lines", {}).get(TEMPLATE_KEY, 1)
    needed = ("date", "text", "list_separator", "or")
    if not isinstance(block, dict) or any(k not in block for k in needed):
        problems.append(
            Problem(
                regions_file,
                line,
                f"add an '{TEMPLATE_KEY}:' block with {', '.join(needed)} "
                "(the built-in urgent reply's wording)",
            )
        )
        return None
    for key in ("text", "list_separator", "or"):
        if not isinstance(block[key], dict) or any(
            not isinstance(block[key].get(lang), str) for lang in LANGUAGES
        ):
            problems.append(Problem(regions_file, line, f"{TEMPLATE_KEY}: '{key}' needs en, ar and ur"))
            return None
    for lang in LANGUAGES:
        if "{numbers}" not in block["text"][lang]:
            problems.append(
                Problem(
                    regions_file,
                    line,
                    f"{TEMPLATE_KEY}: the {lang} text needs {{numbers}}, "
                    "where the regions' emergency numbers go",
                )
            )
            return None
    return block


def _ordered(table: RegionTable, lang: str) -> list:
    """Regions whose browser locales are in `lang` first (Saudi Arabia first for an Arabic
    reader, Pakistan for an Urdu one), otherwise the file's order; a part of a country
    (Kurdistan Region) goes with its country."""

    def reads(region) -> bool:
        parent = table.regions.get(region.parent) if region.parent else None
        locales = region.locales + (parent.locales if parent else ())
        return any(loc.split("-")[0] == lang for loc in locales)

    return sorted(table.regions.values(), key=lambda r: not reads(r))


def build(regions_file: Path, problems: Optional[List[Problem]] = None) -> Optional[List[dict]]:
    """The response's variations (text and metadata per language), or None when regions.yml is broken."""
    problems = [] if problems is None else problems
    found: List[Problem] = []
    table = load_regions(regions_file, found)
    template = _template(regions_file, found)
    problems += found
    if table is None or template is None or any(p.severity == "error" for p in found):
        return None
    dates = [str(template["date"])] + [n.checked for r in table.regions.values() for n in r.numbers]
    version = max(dates)
    variations = []
    for lang in LANGUAGES:
        either = template["or"][lang]
        numbers = template["list_separator"][lang].join(
            f"{region.name[lang]} {either.join(region.emergency_numbers)}"
            for region in _ordered(table, lang)
            if region.emergency_numbers
        )
        variations.append(
            {
                "text": template["text"][lang].replace("{numbers}", numbers),
                "metadata": {
                    "answer_id": ANSWER_ID,
                    "kind": KIND,
                    "lang": lang,
                    "dir": direction(lang),
                    "version": version,
                },
            }
        )
    return variations


def _block_lines(variations: List[dict]) -> List[str]:
    """The response's lines under `utter_urgent_offline:`, relative to that key's column."""
    lines = []
    for variation in variations:
        text_lines = render("text", variation["text"], 4, block=True)
        lines += ["  - " + text_lines[0].lstrip()] + text_lines[1:]
        # Every value is a plain word; the version is quoted so it stays a string, not a date.
        meta = ", ".join(
            f'{k}: "{v}"' if k == "version" else f"{k}: {v}" for k, v in variation["metadata"].items()
        )
        lines.append(f"    metadata: {{{meta}}}")
    return lines


def _domain_responses(domain: Path) -> tuple:
    raw, _ = load_yaml_with_lines(domain)
    responses = raw.get("responses") if isinstance(raw, dict) else None
    return raw, responses if isinstance(responses, dict) else None


def write(domain: Path, regions_file: Path) -> List[Problem]:
    """Rewrite the response in `domain` from `regions_file`; the problems that stopped it, if any."""
    problems: List[Problem] = []
    variations = build(regions_file, problems)
    if variations is None:
        return problems
    _, responses = _domain_responses(domain)
    if responses is None or RESPONSE not in responses:
        return [Problem(domain, 1, f"domain.yml has no responses: {RESPONSE}: to rewrite; add the key")]
    editor = YamlEditor(domain)
    editor.set_lines(responses, RESPONSE, _block_lines(variations), after=RESPONSE)
    editor.save()
    _, written = _domain_responses(domain)
    if written.get(RESPONSE) != variations:  # the editor guarantees this; a failure is a bug
        raise RuntimeError(f"{domain}: {RESPONSE} does not read back as generated")
    return []


def check(domain: Path, regions_file: Path) -> List[Problem]:
    """`make validate`: domain.yml's built-in urgent reply is the one regions.yml gives."""
    problems: List[Problem] = []
    variations = build(regions_file, problems)
    if variations is None:
        return []  # the regions check reports it
    try:
        raw, responses = _domain_responses(domain)
    except (YamlFileError, OSError):
        return []  # the YAML check reports it
    line = getattr(responses, "key_lines", {}).get(RESPONSE, 1) if responses is not None else 1
    current = (responses or {}).get(RESPONSE)
    if current != variations:
        by_lang = {(v.get("metadata") or {}).get("lang"): v for v in current or [] if isinstance(v, dict)}
        differs = [lang for lang, v in zip(LANGUAGES, variations) if by_lang.get(lang) != v]
        return [
            Problem(
                domain,
                line,
                f"{RESPONSE} (the built-in urgent reply) is out of step with "
                f"data/answers/regions.yml ({', '.join(differs) or 'missing'}); run make offline-reply "
                "instead of editing it by hand",
            )
        ]
    return []


def describe(variations: List[Dict]) -> str:
    return "\n".join(f"  {v['metadata']['lang']}: {v['text']}" for v in variations)
