"""bot/tools/content/files.py: one reader per content file kind, agreeing with the bot and Rasa."""

from bot import PROJECT_ROOT
from bot.core.answer_store import ANSWERS_DIR
from bot.tools.content.answer_rules import raw_entries
from bot.tools.content.files import read_domain, read_examples


def test_the_content_rules_read_the_entries_the_store_serves(store):
    read = [(path.name, raw["id"]) for path, raw in raw_entries(ANSWERS_DIR)]
    assert sorted(read) == sorted((a.path.name, a.id) for a in store.answers.values())


def test_the_domain_has_the_intents_rasa_reads_each_with_its_line():
    from rasa.shared.core.constants import DEFAULT_INTENTS
    from rasa.shared.core.domain import Domain as RasaDomain

    path = PROJECT_ROOT / "domain.yml"
    domain = read_domain(path, [])
    rasa_intents = set(RasaDomain.load(str(path)).intents)
    assert set(domain.intents) <= rasa_intents  # Rasa adds its default intents
    assert set(domain.intents) | set(DEFAULT_INTENTS) == rasa_intents | set(DEFAULT_INTENTS)
    lines = path.read_text(encoding="utf-8").splitlines()
    for name, line in domain.intents.items():
        assert name in lines[line - 1]


def test_examples_come_without_annotations_each_on_its_own_line(tmp_path):
    path = tmp_path / "nlu.yml"
    path.write_text(
        'version: "3.1"\nnlu:\n- intent: ask_price\n  examples: |\n'
        "    - how much is it\n    - price in [Dubai](city)?\n",
        encoding="utf-8",
    )
    problems = []
    examples = read_examples(path, problems)
    assert [(e.text, e.intent, e.line) for e in examples] == [
        ("how much is it", "ask_price", 5),
        ("price in Dubai?", "ask_price", 6),
    ]
    assert problems == []
