"""Where the content lives, relative to one project folder.

Every content tool takes a `ContentPaths`, so tests can run the real rules on a
broken copy of the project without touching the real `data/`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot import PROJECT_ROOT


@dataclass(frozen=True)
class ContentPaths:
    root: Path

    @classmethod
    def project(cls) -> "ContentPaths":
        return cls(PROJECT_ROOT)

    @property
    def answers(self) -> Path:
        return self.root / "data" / "answers"

    @property
    def nlu(self) -> Path:
        return self.root / "data" / "nlu"

    @property
    def rules(self) -> Path:
        return self.root / "data" / "rules"

    @property
    def stories(self) -> Path:
        return self.root / "data" / "stories"

    @property
    def domain(self) -> Path:
        return self.root / "domain.yml"

    @property
    def config(self) -> Path:
        return self.root / "config.yml"

    @property
    def locales(self) -> Path:
        return self.root / "locales"

    @property
    def triggers(self) -> Path:
        return self.root / "data" / "safety" / "triggers.yml"

    @property
    def held_out(self) -> Path:
        return self.root / "data" / "eval" / "held_out"

    def answers_po(self, lang: str) -> Path:
        """The translators' file of one language (make translations-export)."""
        return self.locales / lang / "answers.po"

    @property
    def answers_pot(self) -> Path:
        """The template translation tools start a new language from."""
        return self.locales / "answers.pot"

    def training_files(self) -> list:
        """Every YAML file the model is trained from."""
        return sorted(p for d in (self.nlu, self.rules, self.stories) if d.is_dir() for p in d.rglob("*.yml"))

    def show(self, path: Path) -> str:
        """`path` as content staff know it: relative to the project."""
        try:
            return str(Path(path).resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path)
