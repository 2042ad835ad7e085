"""The content staff's commands, added to `python -m bot` (bot/tools/cli.py) and the Makefile."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from bot.tools.content import tracking


def add_commands(sub, func) -> None:
    p = sub.add_parser("translations-export", help="write locales/<lang>/answers.po for the translators")
    p.add_argument("--lang", nargs="*", default=list(tracking.TRANSLATED), choices=tracking.TRANSLATED)
    p.add_argument("--force", action="store_true", help="overwrite translations not imported yet")
    p.set_defaults(func=func, content="export")
    p = sub.add_parser("translations-import", help="read the translators' PO files into data/answers")
    p.add_argument("--lang", nargs="*", default=list(tracking.TRANSLATED), choices=tracking.TRANSLATED)
    p.add_argument("--file", help="a PO file other than locales/<lang>/answers.po (give one --lang)")
    p.add_argument("--dry-run", action="store_true", help="report what would change, write nothing")
    p.set_defaults(func=func, content="import")
    p = sub.add_parser("retrain", help="validate, train a candidate, compare, promote if no worse")
    p.add_argument("--force", action="store_true", help="promote even if the candidate is worse")
    p.add_argument("--no-reload", action="store_true", help="do not tell the running bot to load it")
    p.set_defaults(func=func, content="retrain")
    p = sub.add_parser("rollback", help="put the previous model back in service")
    p.add_argument("--to", help="a model id from models/history/ instead of the previous one")
    p.add_argument("--no-reload", action="store_true")
    p.set_defaults(func=func, content="rollback")
    p = sub.add_parser("review", help="list what clinicians must sign; export badly handled messages")
    p.add_argument("--db", default=None, help="the tracker store (default var/tracker.db, skipped if absent)")
    p.add_argument("--out", default="", help="default: review/review-<today>.yml")
    p.add_argument("--since", type=dt.date.fromisoformat, help="YYYY-MM-DD")
    p.add_argument("--min-confidence", type=float, default=0.6)
    p.set_defaults(func=func, content="review")
    p = sub.add_parser(
        "sign-off", help="set an answer's review: a clinician's approval, content-checked, pending"
    )
    p.add_argument("answer_id")
    p.add_argument("--status", default="approved", choices=["approved", "content-checked", "pending"])
    p.add_argument("--reviewer", default="")
    p.add_argument("--role", default="", help='the clinician\'s role, e.g. "aesthetic physician"')
    p.add_argument("--registration", default="", help='register and number, e.g. "GMC 1234567"')
    p.add_argument("--date", default=None, help="YYYY-MM-DD (default: today)")
    p.set_defaults(func=func, content="sign-off")


def run(args: argparse.Namespace) -> int:
    return {
        "export": _export,
        "import": _import,
        "retrain": _retrain,
        "rollback": _rollback,
        "review": _review,
        "sign-off": _sign_off,
    }[args.content](args)


def _export(args) -> int:
    from bot.tools.content.paths import ContentPaths
    from bot.tools.content.translations import ImportRefused, export, export_summary

    paths = ContentPaths.project()
    try:
        written = export(paths, args.lang, force=args.force)
    except ImportRefused as err:
        for problem in err.problems:
            print(problem)
        return 1
    for path in written:
        print(f"wrote {paths.show(path)}")
    for lang in args.lang:
        total, fuzzy, empty = export_summary(paths, lang)
        print(f"  {lang}: {total} entries, {fuzzy} marked fuzzy (English changed), {empty} untranslated")
    print(
        "Send these files to the translators; when they come back, save them in the same place "
        "and run make translations-import."
    )
    return 0


def _import(args) -> int:
    from bot.tools.content.paths import ContentPaths
    from bot.tools.content.translations import ImportRefused, import_file

    paths = ContentPaths.project()
    if args.file and len(args.lang) != 1:
        print("--file needs exactly one --lang (ar or ur)")
        return 2
    status = 0
    for lang in args.lang:
        source = Path(args.file) if args.file else paths.answers_po(lang)
        if not source.exists():
            print(f"{paths.show(source)}: no such file; run make translations-export first")
            status = 1
            continue
        try:
            report = import_file(source, lang, paths, dry_run=args.dry_run)
        except ImportRefused as err:
            print(f"REFUSED {paths.show(source)}: nothing was written.")
            for problem in err.problems:
                print(problem)
            status = 1
            continue
        for line in report.lines():
            print(line)
    if status == 0 and not args.dry_run:
        print("Restart the bot (make run) to serve the new texts; make validate checks them.")
    return status


def _retrain(args) -> int:
    from bot.tools.content.retrain import retrain

    return retrain(force=args.force, reload=not args.no_reload)


def _rollback(args) -> int:
    from bot.tools.content.retrain import rollback

    return rollback(to=args.to, reload=not args.no_reload)


def _review(args) -> int:
    from bot.core.answer_store import AnswerStore
    from bot.tools.content.review import review, sign_off_list, write_sign_off_sheet

    today = dt.date.today().isoformat()
    store = AnswerStore.load()
    waiting = sign_off_list(store)
    print(
        f"Clinical sign-off: {len(waiting)} medical or safety entries wait for a clinician's approval"
        + (":" if waiting else ".")
    )
    for line in waiting:
        print(f"  {line}")
    if waiting:
        sheet = Path(f"review/sign-off-{today}.md")
        write_sign_off_sheet(store, sheet)
        print(f"wrote {sheet}: their texts in en, ar and ur, for the clinician to read and sign\n")
    db = Path(args.db or "var/tracker.db")
    if args.db is None and not db.exists():
        print(f"no conversations to review yet ({db} does not exist)")
        return 0
    out = Path(args.out or f"review/review-{today}.yml")
    try:
        count = review(db, out, args.since, args.min_confidence)
    except FileNotFoundError as err:
        print(err, file=sys.stderr)
        return 1
    print(f"wrote {out}: {count} message(s) to review")
    return 0


def _sign_off(args) -> int:
    from bot.tools.content.signoff import SignOffRefused, approve, mark_content_checked, mark_pending

    try:
        if args.status == "approved":
            path = approve(args.answer_id, args.reviewer, args.role, args.registration, args.date)
        elif args.status == "content-checked":
            path = mark_content_checked(args.answer_id, args.reviewer, args.date)
        else:
            path = mark_pending(args.answer_id, args.date)
    except SignOffRefused as err:
        print(f"not written: {err}", file=sys.stderr)
        return 1
    print(f"{args.answer_id}: review status {args.status}, written to {path}")
    print(
        "Restart the bot (make run) to serve it; make validate STRICT=1 shows what production still refuses."
    )
    return 0
