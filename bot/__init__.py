"""The clinic's mesotherapy information bot: answer store, languages, safety, channels."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("en", "ar", "ur")
RTL_LANGUAGES = frozenset({"ar", "ur"})
# The reply languages' English names (the interface shows each in its own language: bot/core/i18n.py).
LANGUAGE_NAMES = {"en": "English", "ar": "Arabic", "ur": "Urdu"}
# The written forms the NLU data, evaluation and staff tools tell apart (Urdu in two scripts).
FORM_NAMES = {"en": "English", "ar": "Arabic", "ur": "Urdu (script)", "roman_ur": "Roman Urdu"}
