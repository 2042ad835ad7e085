"""Models kept with their data hash and report; promotion, refusal and rollback."""

import json

import pytest

from bot.tools.content.registry import NothingToRollBack, Registry
from bot.tools.content.retrain import changed_answers, compare, comparison_table, retrain
from bot.tools.model import is_stale
from tests.bot.tools.content.conftest import edit
from tests.support.models import DIET
from tests.support.models import model_archive as _model


def _record(registry, payload: bytes, training_hash: str):
    """A finished candidate whose model file holds `payload`."""
    record = registry.new_record(training_hash)
    record.model.write_bytes(payload)
    registry.finish(record)
    return record


@pytest.fixture
def registry(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    (models / "current.tar.gz").write_bytes(_model("model trained by make train"))
    (models / "current.hash").write_text("a" * 64 + "\n")
    return Registry(models)


def test_promotion_keeps_the_previous_model_and_rollback_restores_it(registry):
    first = _record(registry, _model("candidate one"), "b" * 64)
    registry.promote(first)
    assert registry.current.read_bytes() == _model("candidate one")
    assert (registry.models_dir / "current.hash").read_text().strip() == "b" * 64
    kept = [r for r in registry.records() if r.model.read_bytes() == _model("model trained by make train")]
    assert len(kept) == 1 and kept[0].training_hash == "a" * 64
    assert registry.served() == [kept[0].id, first.id]

    second = _record(registry, _model("candidate two"), "c" * 64)
    registry.promote(second)
    assert registry.rollback().id == first.id
    assert registry.current.read_bytes() == _model("candidate one")
    assert (registry.models_dir / "current.hash").read_text().strip() == "b" * 64
    assert registry.rollback().id == kept[0].id
    assert registry.current.read_bytes() == _model("model trained by make train")
    with pytest.raises(NothingToRollBack):
        registry.rollback()
    assert registry.current.read_bytes() == _model("model trained by make train")
    assert registry.rollback(to=second.id).id == second.id
    assert registry.current.read_bytes() == _model("candidate two")
    events = json.loads((registry.history / "promoted.json").read_text())["events"]
    assert [e["action"] for e in events] == ["promote", "promote", "rollback", "rollback", "rollback"]


def test_rollback_with_no_earlier_model_changes_nothing(registry):
    with pytest.raises(NothingToRollBack):
        registry.rollback()
    assert registry.records() == []  # nothing copied into the history either
    assert registry.current.read_bytes() == _model("model trained by make train")


def test_a_model_from_make_train_is_kept_before_a_rollback(registry):
    first = _record(registry, _model("candidate one"), "b" * 64)
    registry.promote(first)
    registry.current.write_bytes(_model("retrained by make train"))  # bot.tools.model.train() replaced it
    assert registry.rollback().id == first.id
    assert any(r.model.read_bytes() == _model("retrained by make train") for r in registry.records())


def test_promotion_writes_the_hash_train_checks(registry, tmp_path):
    from bot import PROJECT_ROOT
    from bot.tools.model import training_hash

    record = _record(registry, _model("fresh"), training_hash(PROJECT_ROOT))
    registry.promote(record)
    assert not is_stale(registry.models_dir, PROJECT_ROOT)  # make train will not retrain needlessly


def test_old_refused_candidates_are_pruned(registry):
    refused = []
    for i in range(5):
        record = _record(registry, f"bad {i}".encode(), f"{i}" * 64)
        registry.refuse(record, ["worse"])
        refused.append(record.id)
    remaining = {r.id for r in registry.records()}
    assert remaining == set(refused[-3:])
    assert registry.current.read_bytes() == _model("model trained by make train")


def _report(**languages):
    """A report: lang -> (accuracy, safety recall, predictions)."""
    return {
        "languages": {
            lang: {"examples": len(p), "accuracy": a, "safety_recall": s, "predictions": p}
            for lang, (a, s, p) in languages.items()
        }
    }


def test_compare_refuses_a_drop_of_safety_recall():
    verdict = compare(
        _report(en=(0.90, 1.0, []), ar=(0.88, 1.0, [])), _report(en=(0.95, 1.0, []), ar=(0.90, 0.9, []))
    )
    assert not verdict.promote
    assert verdict.reasons == [
        "Arabic (ar): safety recall fell from 100.0% to 90.0% (it may not fall at all)"
    ]


def test_compare_allows_up_to_two_points_of_accuracy_per_language():
    current = _report(en=(0.900, 1.0, []), ur=(0.850, 0.95, []))
    assert compare(current, _report(en=(0.881, 1.0, []), ur=(0.870, 0.95, []))).promote
    verdict = compare(current, _report(en=(0.875, 1.0, []), ur=(0.870, 0.95, [])))
    assert not verdict.promote
    assert verdict.reasons == [
        "English (en): intent accuracy fell from 90.0% to 87.5% (-2.5 points; at most 2 allowed)"
    ]


def test_compare_promotes_when_nothing_is_in_service():
    assert compare(None, _report(en=(0.5, 0.5, []))).promote


def test_the_table_and_the_changed_answers(store):
    before = _report(en=(0.5, 1.0, [["does it hurt", "ask_pain", "ask_cost"], ["hi", "greet", "greet"]]))
    after = _report(en=(1.0, 1.0, [["does it hurt", "ask_pain", "ask_pain"], ["hi", "greet", "greet"]]))
    assert changed_answers(before, after, store) == [
        ("en", "does it hurt", "booking.cost", "procedure.pain", "procedure.pain")
    ]
    table = "\n".join(comparison_table(before, after))
    assert "English (2)" in table and "50.0%" in table and "100.0%" in table and "+50.0 pt" in table


@pytest.mark.slow  # runs `rasa data validate` in a subprocess
def test_retrain_stops_on_content_errors_before_training(project, tmp_path, capsys):
    edit(
        project.answers / "procedure.yml",
        "      en: Does it hurt?",
        "      en: Does it hurt? Tell me honestly",
    )
    models = tmp_path / "models"
    assert retrain(project, models, reload=False) == 2
    out = capsys.readouterr().out
    assert "procedure.yml" in out and "a button allows 20" in out and "fix them first" in out
    assert not (models / "history").exists() or not list((models / "history").iterdir())


def test_a_model_trained_with_components_this_code_no_longer_has_is_not_put_back(registry, capsys):
    """A model from before a component was removed would stop the Rasa server from starting."""
    from bot.tools.content.registry import ModelNotUsable
    from bot.tools.content.retrain import rollback

    old = _record(registry, _model("old", (DIET, "bot.nlu.gazetteer.GazetteerEntityExtractor")), "b" * 64)
    registry.promote(old)
    registry.promote(_record(registry, _model("new"), "c" * 64))
    with pytest.raises(ModelNotUsable, match=r"bot\.nlu\.gazetteer\.GazetteerEntityExtractor.*make retrain"):
        registry.rollback()
    assert registry.current.read_bytes() == _model("new")  # still in service
    assert rollback(registry.models_dir, reload=False) == 1
    assert "nothing changed" in capsys.readouterr().out
    (registry.history / old.id / "model.tar.gz").write_bytes(b"half a file")
    with pytest.raises(ModelNotUsable, match="not a readable Rasa model"):
        registry.rollback(to=old.id)
    assert registry.current.read_bytes() == _model("new")
