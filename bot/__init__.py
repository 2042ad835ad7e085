"""The clinic's mesotherapy information bot: answer store, languages, safety, channels."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("en", "ar", "ur")
RTL_LANGUAGES = frozenset({"ar", "ur"})
