"""`make retrain` on a deliberately worse data set: trained once, refused, the model in service kept.

Trains a real model (about 3 minutes on 2 cores) from a copy of the project whose Arabic
examples are cut to one per intent, evaluates it and the model in service on the real
held-out sets, and checks the refusal; then forced promotion and rollback on the same
real models. Never touches the real data/ or models/.
"""

import io
import json
import shutil

import pytest
import yaml

from bot.tools.content.registry import Registry, file_digest
from bot.tools.content.retrain import retrain
from bot.tools.model import MODELS_DIR, model_path, train
from tests.bot.tools.content.conftest import copy_project

pytestmark = pytest.mark.slow


def _keep_one_arabic_example_per_intent(paths):
    for path in sorted((paths.nlu / "ar").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for item in data.get("nlu") or []:
            if "examples" in item:
                item["examples"] = item["examples"].strip().split("\n")[0] + "\n"
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.fixture(scope="module")
def worse_run(tmp_path_factory):
    if not model_path().exists():
        train()
    root = tmp_path_factory.mktemp("worse")
    paths = copy_project(root / "project")
    _keep_one_arabic_example_per_intent(paths)
    models = root / "models"
    models.mkdir()
    shutil.copy(model_path(), models / "current.tar.gz")
    shutil.copy(MODELS_DIR / "current.hash", models / "current.hash")
    in_service = file_digest(models / "current.tar.gz")
    out = io.StringIO()
    status = retrain(paths, models, reload=False, out=out)
    return status, out.getvalue(), Registry(models), in_service


def test_a_worse_model_is_refused_and_the_model_in_service_stays(worse_run):
    status, output, registry, in_service = worse_run
    assert status == 1, output
    assert "NOT PROMOTED: the model in service stays" in output
    assert "Arabic (ar): intent accuracy fell from" in output
    assert file_digest(registry.current) == in_service
    # the side-by-side table, per language, and the messages whose answer changed
    for row in ("English (", "Arabic (", "Roman Urdu (", "Urdu (script) ("):
        assert row in output
    assert "intent accuracy" in output and "safety recall" in output
    assert "WORSE ar" in output
    # trained with a progress bar; kept with its data hash and report
    assert "training [" in output and "learning, epoch" in output
    candidate = [r for r in registry.records() if r.info.get("status") == "refused"]
    assert len(candidate) == 1
    assert len(candidate[0].training_hash) == 64
    report = json.loads(candidate[0].report_file.read_text(encoding="utf-8"))
    assert set(report["languages"]) == {"en", "ar", "ur", "roman_ur"}
    assert report["languages"]["ar"]["predictions"][0][0]  # every test message, with its prediction
    assert (candidate[0].folder / "train.log").stat().st_size > 0


def test_forced_promotion_then_rollback_on_real_models(worse_run):
    _, _, registry, in_service = worse_run
    candidate = next(r for r in registry.records() if r.info.get("status") == "refused")
    registry.promote(candidate, forced=True, reasons=["forced by the test"])
    assert file_digest(registry.current) == file_digest(candidate.model)
    assert (registry.models_dir / "current.hash").read_text().strip() == candidate.training_hash
    restored = registry.rollback()
    assert file_digest(registry.current) == in_service
    assert restored.info["status"] == "served"
