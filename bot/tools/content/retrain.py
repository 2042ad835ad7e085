"""`make retrain` and `make rollback`: a new model goes into service only if it is no worse.

1. `make validate`'s checks; any error stops here.
2. Train a candidate into models/history/<when>-<hash8>/ with a progress bar.
3. Evaluate it on the held-out sets (data/eval/held_out/, never trained on), and the model in
   service too if its figures are not stored yet.
4. Print both side by side: intent accuracy and safety recall per language, and the
   test messages whose answer changed.
5. Promote it, unless safety recall fell in any language or intent accuracy fell by
   more than 2 points in any language (FORCE=1 promotes anyway, and says so in the log).
6. Tell the running bot to load it (Rasa's model reload; conversations are kept in the
   tracker store), or say that the next `make run` will use it.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, TextIO, Tuple

from bot import FORM_NAMES
from bot.core.files import write_text_atomically
from bot.core.safety import SAFETY_INTENTS
from bot.tools.content.paths import ContentPaths
from bot.tools.content.registry import ModelNotUsable, ModelRecord, NothingToRollBack, Registry, file_digest
from bot.tools.model import MODELS_DIR, _training_lock, rasa_env, rasa_train_command, training_hash

MAX_ACCURACY_DROP = 0.02  # 2 points
RUNNING_BOT_FILE = "rasa-api.json"  # written by `make run` in var/: the server's URL and API token
FALLBACK_ANSWER = "fallback.not_understood"


# -- training -------------------------------------------------------------------------
class Progress:
    """One line that fills up on a terminal; a line per step in a log file."""

    def __init__(self, out: TextIO, width: int = 30):
        self.out, self.width = out, width
        self.tty = hasattr(out, "isatty") and out.isatty()
        self.started = time.monotonic()
        self.fraction, self.label, self._printed = 0.0, "", (-1, "")

    def update(self, fraction: float, label: str) -> None:
        self.fraction, self.label = max(self.fraction, min(fraction, 1.0)), label
        filled = int(self.fraction * self.width)
        elapsed = int(time.monotonic() - self.started)
        line = (
            f"training [{'#' * filled}{'.' * (self.width - filled)}] {self.fraction:4.0%}  "
            f"{elapsed // 60}m{elapsed % 60:02d}s  {label}"
        )
        if self.tty:
            self.out.write("\r" + line[:120].ljust(120))
            self.out.flush()
        else:
            step = (int(self.fraction * 10), label if "epoch" not in label else "epochs")
            if step != self._printed:
                self._printed = step
                print(line, file=self.out, flush=True)

    def close(self) -> None:
        if self.tty:
            self.out.write("\n")
            self.out.flush()


_EPOCH = re.compile(r"Epochs:\s*\d+%.*?(\d+)/(\d+)")
_COMPONENT = re.compile(r"(Starting to train|Restored) component '([^']+)'")
_DIET_SPAN = (0.15, 0.9)  # the share of the bar the classifier's epochs fill


def _follow(segment: str, progress: Progress, components: List[str]) -> None:
    epoch = _EPOCH.search(segment)
    if epoch:
        done, total = int(epoch.group(1)), int(epoch.group(2))
        low, high = _DIET_SPAN
        progress.update(low + (high - low) * done / max(total, 1), f"learning, epoch {done}/{total}")
        return
    component = _COMPONENT.search(segment)
    if component:
        components.append(component.group(2))
        name = component.group(2).split("_")[0]
        after_diet = any(
            "DIET" in c for c in components[:-1]
        )  # DIETIntentClassifier (bot/rasa_server/nlu/diet.py)
        fraction = _DIET_SPAN[1] + 0.01 * len(components) if after_diet else 0.02 * len(components)
        # Rasa reuses components whose inputs did not change (its cache in .rasa/)
        action = "training" if component.group(1).startswith("Starting") else "reused"
        progress.update(min(fraction, 0.98), f"{action} {name}")
    elif "Your Rasa model is trained and saved" in segment:
        progress.update(1.0, "saved")


def train_candidate(root: Path, record: ModelRecord, out: Optional[TextIO] = None) -> float:
    """Train the model of `root` into `record` (model.tar.gz, train.log); seconds taken."""
    cmd = rasa_train_command(root, record.folder, model_name="model")
    progress = Progress(out or sys.stdout)
    progress.update(0.01, "starting Rasa")
    started, components = time.monotonic(), []
    with open(record.folder / "train.log", "wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=root, env=rasa_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        pending = b""
        while True:
            chunk = proc.stdout.read1(4096) if hasattr(proc.stdout, "read1") else proc.stdout.read(4096)
            if not chunk:
                break
            log.write(chunk)
            pending += chunk
            *segments, pending = re.split(rb"[\r\n]", pending)
            for segment in segments:
                _follow(segment.decode("utf-8", "replace"), progress, components)
        status = proc.wait()
    progress.close()
    if status != 0 or not record.model.exists():
        raise TrainingFailed(f"training failed (status {status}); see {record.folder / 'train.log'}")
    return time.monotonic() - started


class TrainingFailed(RuntimeError):
    pass


# -- evaluation -------------------------------------------------------------------------
def held_out_fingerprint(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.yml")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def model_report(model: Path) -> dict:
    """Held-out figures of one model, with every test message's prediction."""
    from bot.tools.evaluate import HELD_OUT_DIR, held_out_reports, load_examples

    _quiet_rasa()
    reports = held_out_reports(model)
    languages = {}
    for lang, report in reports.items():
        texts = [text for text, _ in load_examples(HELD_OUT_DIR / f"{lang}.yml")]
        pairs = report["pairs"]
        safety = [(e, p) for e, p in pairs if e in SAFETY_INTENTS]
        languages[lang] = {
            "examples": report["examples"],
            "accuracy": report["accuracy"],
            "macro_f1": report["macro_f1"],
            "safety_examples": len(safety),
            "safety_recall": round(sum(e == p for e, p in safety) / len(safety), 4) if safety else None,
            "predictions": [[t, e, p] for t, (e, p) in zip(texts, pairs)],
        }
    return {
        "held_out": held_out_fingerprint(HELD_OUT_DIR),
        "model_sha256": file_digest(model),
        "languages": languages,
    }


def _quiet_rasa() -> None:
    """Rasa logs every parsed message at debug level unless told otherwise; keep the
    staff's terminal for the table."""
    import logging

    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    for name in ("rasa", "tensorflow", "absl"):
        logging.getLogger(name).setLevel(logging.WARNING)


def current_report(registry: Registry, out: Optional[TextIO] = None) -> Optional[dict]:
    """The figures of the model in service: stored with it, or computed now and stored."""
    if not registry.current.exists():
        return None
    from bot.tools.evaluate import HELD_OUT_DIR

    fingerprint = held_out_fingerprint(HELD_OUT_DIR)
    digest = file_digest(registry.current)
    record = registry.in_service()
    cache = registry.models_dir / "current.report.json"
    for stored in ([record.report()] if record else []) + ([_read(cache)] if cache.exists() else []):
        if stored and stored.get("held_out") == fingerprint and stored.get("model_sha256") == digest:
            return stored
    print(
        "evaluating the model in service on the held-out sets (once; about a minute)...",
        file=out or sys.stdout,
        flush=True,
    )
    report = model_report(registry.current)
    if record is not None:
        record.save_report(report)
    else:
        cache.write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
    return report


def _read(path: Path) -> Optional[dict]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# -- comparison --------------------------------------------------------------------------
@dataclass
class Verdict:
    promote: bool
    reasons: List[str] = field(default_factory=list)


def compare(current: Optional[dict], candidate: dict, max_drop: float = MAX_ACCURACY_DROP) -> Verdict:
    """Whether `candidate` may replace `current`, and why not."""
    if current is None:
        return Verdict(True)
    reasons = []
    for lang, before in sorted(current["languages"].items()):
        after = candidate["languages"].get(lang)
        name = f"{FORM_NAMES.get(lang, lang)} ({lang})"
        if after is None:
            reasons.append(f"{name}: the candidate was not evaluated on this held-out set")
            continue
        drop = before["accuracy"] - after["accuracy"]
        if drop > max_drop + 1e-9:
            reasons.append(
                f"{name}: intent accuracy fell from {before['accuracy']:.1%} to "
                f"{after['accuracy']:.1%} ({-drop * 100:+.1f} points; at most "
                f"{max_drop * 100:.0f} allowed)"
            )
        was, now = before.get("safety_recall"), after.get("safety_recall") or 0
        if was is not None and now < was - 1e-9:
            reasons.append(
                f"{name}: safety recall fell from {before['safety_recall']:.1%} to "
                f"{(after.get('safety_recall') or 0):.1%} (it may not fall at all)"
            )
    return Verdict(not reasons, reasons)


def _answer_of(intent: Optional[str], store) -> str:
    if store is not None:
        answer = store.for_intent(intent)
        if answer is not None:
            return answer.id
    return intent if store is None and intent else FALLBACK_ANSWER


def changed_answers(
    current: Optional[dict], candidate: dict, store=None
) -> List[Tuple[str, str, str, str, str]]:
    """(lang, text, answer before, answer after, expected answer) for messages that changed answer."""
    if current is None:
        return []
    out = []
    for lang, after in sorted(candidate["languages"].items()):
        before = current["languages"].get(lang)
        if before is None:
            continue
        for (text, expected, was), (_, _, now) in zip(before["predictions"], after["predictions"]):
            was_answer, now_answer = _answer_of(was, store), _answer_of(now, store)
            if was_answer != now_answer:
                out.append((lang, text, was_answer, now_answer, _answer_of(expected, store)))
    return out


def comparison_table(current: Optional[dict], candidate: dict) -> List[str]:
    rows = [f"{'held-out set':22s} {'':16s} {'in service':>11s} {'candidate':>11s} {'change':>9s}"]
    for lang, after in sorted(candidate["languages"].items()):
        before = (current or {"languages": {}})["languages"].get(lang, {})
        label = f"{FORM_NAMES.get(lang, lang)} ({after['examples']})"
        for key, name in (("accuracy", "intent accuracy"), ("safety_recall", "safety recall")):
            a, b = after.get(key), before.get(key)
            shown_b = f"{b:.1%}" if b is not None else "-"
            shown_a = f"{a:.1%}" if a is not None else "-"
            change = f"{(a - b) * 100:+.1f} pt" if a is not None and b is not None else ""
            rows.append(f"{label:22s} {name:16s} {shown_b:>11s} {shown_a:>11s} {change:>9s}")
            label = ""
    return rows


def print_comparison(current: Optional[dict], candidate: dict, store, out: TextIO, limit: int = 40) -> None:
    print("", file=out)
    for row in comparison_table(current, candidate):
        print(row, file=out)
    changes = changed_answers(current, candidate, store)
    if current is None:
        print("\nno model in service to compare with", file=out)
        return
    better = sum(now == expected for _, _, _, now, expected in changes)
    worse = sum(was == expected for _, _, was, _, expected in changes)
    print(
        f"\n{len(changes)} test message(s) changed answer: {better} now right, {worse} now wrong, "
        f"{len(changes) - better - worse} wrong either way",
        file=out,
    )
    for lang, text, was, now, expected in changes[:limit]:
        mark = "better" if now == expected else "WORSE" if was == expected else "      "
        print(
            f"  {mark} {lang:8s} {text[:48]!r:52s} {was} -> {now}"
            + ("" if now == expected else f" (expected {expected})"),
            file=out,
        )
    if len(changes) > limit:
        print(
            f"  ... and {len(changes) - limit} more (models/history/<id>/report.json has them all)", file=out
        )


# -- the running bot ----------------------------------------------------------------------
def reload_model(url: str, token: str, model_file: Path, timeout: float = 300) -> None:
    """Ask a running Rasa server to load `model_file` (PUT /model); conversations stay in its
    tracker store. Raises OSError when the server cannot be reached or refuses."""
    request = urllib.request.Request(
        f"{url}/model?token={urllib.parse.quote(token)}",
        method="PUT",
        data=json.dumps({"model_file": str(model_file)}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback only
        if response.status not in (200, 204):
            raise OSError(f"the Rasa server answered {response.status}")


def reload_running_bot(model_file: Path, var_dir: Optional[Path] = None) -> str:
    from bot.tools.servers import VAR_DIR

    info_file = Path(var_dir or VAR_DIR) / RUNNING_BOT_FILE
    if not info_file.exists():
        return "no running bot found (make run); it will use the new model when it starts"
    try:
        info = json.loads(info_file.read_text(encoding="utf-8"))
        reload_model(info["url"], info["token"], model_file)
    except (OSError, ValueError, KeyError, urllib.error.URLError) as err:
        return (
            f"the running bot at {info_file} could not load the new model ({err}); restart it "
            "(Ctrl-C, then make run): conversations are kept in var/tracker.db"
        )
    return f"the running bot at {info['url']} now uses the new model; its conversations carry on"


# -- the commands ----------------------------------------------------------------------------
def retrain(
    paths: Optional[ContentPaths] = None,
    models_dir: Path = MODELS_DIR,
    force: bool = False,
    validate: bool = True,
    reload: bool = True,
    out: Optional[TextIO] = None,
) -> int:
    """0: promoted; 1: refused (the model in service is unchanged); 2: content errors."""
    out = out or sys.stdout
    from bot.tools.content.store_rules import load_store
    from bot.tools.content.validate import check_all

    paths = paths or ContentPaths.project()
    if validate:
        problems = check_all(paths)
        errors = [p for p in problems if p.severity == "error"]
        for problem in errors:
            print(problem, file=out)
        if errors:
            print(
                f"{len(errors)} content error(s): fix them first (make validate shows the warnings too)",
                file=out,
            )
            return 2
        print(f"content checked: no errors, {len(problems)} warning(s) (make validate lists them)", file=out)
    registry = Registry(models_dir)
    record = registry.new_record(training_hash(paths.root), note="make retrain")
    with _training_lock(registry.models_dir):
        seconds = train_candidate(paths.root, record, out)
    registry.finish(record)
    print(
        f"trained {record.id} in {seconds / 60:.1f} min; evaluating it on the held-out sets...",
        file=out,
        flush=True,
    )
    candidate = model_report(record.model)
    record.save_report(candidate)
    current = current_report(registry, out)
    store, _ = load_store(paths.answers)
    print_comparison(current, candidate, store, out)
    overlap = training_overlap(paths)
    if overlap:
        print(
            f"\nnote: {overlap} held-out message(s) are also training examples, which flatters these "
            "figures; data/eval/held_out/ should hold messages the model never saw",
            file=out,
        )
    verdict = compare(current, candidate)
    if not verdict.promote and not force:
        registry.refuse(record, verdict.reasons)
        print("\nNOT PROMOTED: the model in service stays. Why:", file=out)
        for reason in verdict.reasons:
            print(f"  - {reason}", file=out)
        print(
            f"The candidate is kept in {registry.history / record.id}. If you are sure, "
            "make retrain FORCE=1 promotes anyway.",
            file=out,
        )
        return 1
    registry.promote(record, forced=not verdict.promote, reasons=verdict.reasons)
    print(
        f"\nPROMOTED{' (forced)' if not verdict.promote else ''}: {record.id} is now in service "
        f"({registry.current}); make rollback returns to the previous model.",
        file=out,
    )
    if reload:
        print(reload_running_bot(registry.current), file=out)
    return 0


def rollback(
    models_dir: Path = MODELS_DIR, to: Optional[str] = None, reload: bool = True, out: Optional[TextIO] = None
) -> int:
    out = out or sys.stdout
    registry = Registry(models_dir)
    try:
        record = registry.rollback(to)
    except (NothingToRollBack, ModelNotUsable, KeyError) as err:
        print(f"nothing changed: {err}", file=out)
        return 1
    print(f"ROLLED BACK: {record.id} is in service again ({registry.current}).", file=out)
    served = registry.served()
    if served:
        print("models put in service, newest last: " + ", ".join(served[-KEEP_SHOWN:]), file=out)
    if reload:
        print(reload_running_bot(registry.current), file=out)
    return 0


KEEP_SHOWN = 5


def training_overlap(paths: ContentPaths) -> int:
    """How many held-out messages are, once normalised, also training examples."""
    from bot.core.normalize import normalise_for_matching
    from bot.tools.content.files import read_examples

    def texts(files):
        return [normalise_for_matching(e.text) for path in sorted(files) for e in read_examples(path, [])]

    trained = set(texts(paths.nlu.rglob("*.yml")))
    held = texts(paths.held_out.glob("*.yml"))
    return sum(h in trained for h in held)


def announce_running_bot(url: str, token: str, var_dir: Optional[Path] = None) -> Path:
    """Tell `make retrain` where the running bot is (readable by this user only)."""
    from bot.tools.servers import VAR_DIR

    path = Path(var_dir or VAR_DIR) / RUNNING_BOT_FILE
    write_text_atomically(path, json.dumps({"url": url, "token": token}), mode=0o600)
    return path


def forget_running_bot(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
