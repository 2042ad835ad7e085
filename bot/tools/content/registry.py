"""The models the bot has had: the one in service, earlier ones, refused candidates.

    models/current.tar.gz, current.hash     the model in service (bot/tools/model.py's contract)
    models/history/<when>-<hash8>/          one folder per model trained by `make retrain`,
        model.tar.gz, hash, report.json,    or kept from `make train` when it was replaced
        info.json, train.log
    models/history/promoted.json            the order models were put in service

Promotion copies a model over current.tar.gz with an atomic rename, so the Rasa
server and `bot.tools.model.train()` never see half a file; it runs under the same lock as
training. `rollback()` puts back the model that was in service before.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

from bot.core.files import copy_atomically, write_text_atomically
from bot.tools.model import MODELS_DIR, _hash_file, _training_lock, missing_components, model_path

HISTORY = "history"
PROMOTED = "promoted.json"
KEEP_REFUSED = 3  # refused candidates kept for a look; older ones are deleted
KEEP_SERVED = 5  # earlier models kept for rollback


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_json(path: Path, data) -> None:
    write_text_atomically(path, json.dumps(data, ensure_ascii=False, indent=1))


@dataclass(frozen=True)
class ModelRecord:
    folder: Path

    @property
    def id(self) -> str:
        return self.folder.name

    @property
    def model(self) -> Path:
        return self.folder / "model.tar.gz"

    @property
    def report_file(self) -> Path:
        return self.folder / "report.json"

    @property
    def training_hash(self) -> str:
        path = self.folder / "hash"
        return path.read_text().strip() if path.exists() else ""

    @property
    def info(self) -> dict:
        path = self.folder / "info.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}

    def update_info(self, **changes) -> None:
        _write_json(self.folder / "info.json", {**self.info, **changes})

    def report(self) -> Optional[dict]:
        if not self.report_file.exists():
            return None
        return json.loads(self.report_file.read_text(encoding="utf-8"))

    def save_report(self, report: dict) -> None:
        _write_json(self.report_file, report)


class NothingToRollBack(RuntimeError):
    pass


class ModelNotUsable(RuntimeError):
    """A kept model this version of the bot cannot load (trained with components since moved)."""


class Registry:
    def __init__(self, models_dir: Path = MODELS_DIR):
        self.models_dir = Path(models_dir)
        self.history = self.models_dir / HISTORY

    # -- reading -------------------------------------------------------------------
    @property
    def current(self) -> Path:
        return model_path(self.models_dir)

    def records(self) -> List[ModelRecord]:
        if not self.history.is_dir():
            return []
        return [ModelRecord(p) for p in sorted(self.history.iterdir()) if (p / "model.tar.gz").exists()]

    def get(self, record_id: str) -> ModelRecord:
        record = ModelRecord(self.history / record_id)
        if not record.model.exists():
            raise KeyError(f"no model {record_id!r} in {self.history}")
        return record

    def _promoted(self) -> Dict[str, list]:
        path = self.history / PROMOTED
        data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        return {"stack": list(data.get("stack") or []), "events": list(data.get("events") or [])}

    def served(self) -> List[str]:
        """Ids of the models put in service, oldest first; the last is in service (if it still is)."""
        return self._promoted()["stack"]

    def in_service(self) -> Optional[ModelRecord]:
        """The history record of the model in service, if it has one."""
        if not self.current.exists():
            return None
        digest = file_digest(self.current)
        stack = self.served()
        candidates = [r for r in self.records() if r.id in stack[-1:]] + self.records()
        return next((r for r in candidates if r.info.get("sha256") == digest), None)

    # -- writing ---------------------------------------------------------------------
    def new_record(
        self, training_hash: str, note: str = "", when: Optional[dt.datetime] = None
    ) -> ModelRecord:
        when = when or dt.datetime.now(dt.timezone.utc)
        base = f"{when:%Y%m%d-%H%M%S}-{training_hash[:8]}"
        folder, n = self.history / base, 1
        while folder.exists():
            n += 1
            folder = self.history / f"{base}-{n}"
        folder.mkdir(parents=True)
        (folder / "hash").write_text(training_hash + "\n")
        record = ModelRecord(folder)
        record.update_info(created=when.isoformat(timespec="seconds"), status="training", note=note)
        return record

    def finish(self, record: ModelRecord) -> None:
        """A record whose model.tar.gz is complete."""
        record.update_info(status="candidate", sha256=file_digest(record.model))

    def keep_current(self, note: str) -> Optional[ModelRecord]:
        """Copy the model in service into the history unless it is already there."""
        if not self.current.exists():
            return None
        kept = self.in_service()
        if kept is not None:
            return kept
        hash_file = _hash_file(self.models_dir)
        training_hash = hash_file.read_text().strip() if hash_file.exists() else "unknown"
        record = self.new_record(training_hash, note)
        shutil.copyfile(self.current, record.model)
        record.update_info(status="served", sha256=file_digest(record.model))
        return record

    def _put_in_service(self, record: ModelRecord) -> None:
        copy_atomically(record.model, self.current)
        write_text_atomically(_hash_file(self.models_dir), record.training_hash + "\n")

    def _log(self, action: str, record: ModelRecord, stack: List[str], **details) -> None:
        data = self._promoted()
        data["stack"] = stack
        data["events"].append(
            {
                "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "action": action,
                "model": record.id,
                **details,
            }
        )
        _write_json(self.history / PROMOTED, data)

    def promote(self, record: ModelRecord, forced: bool = False, reasons: Optional[List[str]] = None) -> None:
        """Put `record` in service; the model it replaces stays in the history."""
        with _training_lock(self.models_dir):
            previous = self.keep_current("in service before " + record.id)
            stack = [i for i in self.served() if i != record.id]
            if previous is not None and previous.id not in stack[-1:]:
                stack = [i for i in stack if i != previous.id] + [previous.id]
            self._put_in_service(record)
            record.update_info(status="served", forced=forced, refused_because=reasons or [])
            self._log("promote", record, stack + [record.id], forced=forced)
            self._prune(stack + [record.id])

    def refuse(self, record: ModelRecord, reasons: List[str]) -> None:
        record.update_info(status="refused", refused_because=reasons)
        with _training_lock(self.models_dir):
            self._prune(self.served())

    def rollback(self, to: Optional[str] = None) -> ModelRecord:
        """Put back the model in service before the current one (or the model `to`)."""
        with _training_lock(self.models_dir):
            if to is None:
                current = self.in_service()
                served = self.served()
                earlier = served[:-1] if current and current.id in served[-1:] else served
                if not any((self.history / i / "model.tar.gz").exists() for i in earlier):
                    raise NothingToRollBack("there is no earlier model to go back to")
            now = self.keep_current("in service before a rollback")
            stack = self.served()
            if now is not None and now.id not in stack[-1:]:
                stack = [i for i in stack if i != now.id] + [now.id]
            if to is not None:
                target = self.get(to)
                stack = [i for i in stack if i != target.id] + [target.id]
            else:
                stack = stack[:-1]
                while stack and not (self.history / stack[-1] / "model.tar.gz").exists():
                    stack = stack[:-1]
                if not stack:
                    raise NothingToRollBack("there is no earlier model to go back to")
                target = self.get(stack[-1])
            missing = missing_components(target.model)
            if missing:  # the Rasa server would not start with it: the current model stays
                raise ModelNotUsable(
                    f"model {target.id} was trained with code this version of the bot no longer has "
                    f"({', '.join(missing)}); it cannot be put back in service. Train a new one "
                    "from the content as it was instead (make retrain)."
                )
            self._put_in_service(target)
            target.update_info(status="served")
            self._log("rollback", target, stack, replaced=now.id if now else None)
            return target

    def _prune(self, stack: List[str]) -> None:
        """Keep the last KEEP_SERVED models put in service and KEEP_REFUSED refused ones."""
        keep = set(stack[-KEEP_SERVED:])
        records = self.records()
        refused = [
            r for r in records if r.info.get("status") in ("refused", "candidate") and r.id not in keep
        ]
        served = [r for r in records if r.id not in keep and r.info.get("status") == "served"]
        for record in refused[:-KEEP_REFUSED] + served:
            shutil.rmtree(record.folder, ignore_errors=True)
