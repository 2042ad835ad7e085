"""Command line of the clinic bot: `python -m bot <command>` (the Makefile calls these)."""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
import time

from bot.core.settings import strict_mode


def cmd_validate(args: argparse.Namespace) -> int:
    from bot.tools.content.validate import check_all, report

    strict = args.strict or strict_mode()
    return report(check_all(strict=strict, rasa=not args.no_rasa), strict)


def cmd_train(args: argparse.Namespace) -> int:
    from bot.tools.model import model_path, train

    elapsed = train(force=args.force)
    if elapsed is None:
        print(f"model is up to date: {model_path()}")
    else:
        print(f"trained {model_path()} in {elapsed:.1f} s")
    return 0


def cmd_locales(_: argparse.Namespace) -> int:
    from bot.core.i18n import compile_catalogs

    for path in compile_catalogs():
        print(f"compiled {path}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    import logging
    from pathlib import Path
    from urllib.parse import urlsplit

    from bot.core.answer_store import AnswerStore
    from bot.rasa_server.channels._handoff import HandoffConfigError, HandoffSettings
    from bot.rasa_server.channels.whatsapp_config import WhatsAppConfigError, whatsapp_credentials
    from bot.rasa_server.credentials import CREDENTIALS_FILE, check_credentials
    from bot.tools._process_logs import PRIVATE_UMASK
    from bot.tools.model import train
    from bot.tools.servers import SUPERVISOR_LOGGER, VAR_DIR, BotServers

    # Everything this supervisor and its servers create (logs, the conversations' database,
    # secrets) is readable by this user only.
    os.umask(PRIVATE_UMASK)
    try:  # before anything starts: a half-configured WhatsApp number must not run at all
        whatsapp = whatsapp_credentials(os.environ) is not None
        handoff = HandoffSettings.from_environment(os.environ)  # nor a half-configured staff webhook
    except (WhatsAppConfigError, HandoffConfigError) as err:
        print(f"cannot start: {err}", file=sys.stderr)
        return 2
    problems = check_credentials(Path(args.credentials) if args.credentials else CREDENTIALS_FILE)
    if problems:
        print("cannot start: " + "\n".join(str(p) for p in problems), file=sys.stderr)
        return 2
    if args.strict:
        os.environ["BOT_STRICT"] = "1"  # inherited by the action server
    AnswerStore.load(strict=strict_mode())  # refuse to start on an invalid store
    elapsed = train()
    if elapsed is not None:
        print(f"trained the model in {elapsed:.1f} s")
    from bot.tools.content.retrain import announce_running_bot, forget_running_bot

    var_dir = Path(args.var_dir) if args.var_dir else VAR_DIR
    redis = None
    if args.workers > 1:
        from bot.tools.services import RedisServer, redis_server_binary

        if not redis_server_binary():
            print(
                f"cannot start {args.workers} workers: redis-server is not installed (make run WORKERS=2 installs it)",
                file=sys.stderr,
            )
            return 2
        redis = RedisServer().start()
    terminal = logging.StreamHandler(sys.stderr)
    terminal.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    logging.getLogger(SUPERVISOR_LOGGER).addHandler(terminal)
    # A token for Rasa's API (on loopback only), so `make retrain` can swap the model
    # without a restart; handed over in a 0600 file, never on a command line.
    servers = BotServers(
        rasa_port=args.port,
        action_port=args.action_port,
        api_token=secrets.token_urlsafe(24),
        tracker_db=var_dir / "tracker.db",
        logs_dir=var_dir / "logs",
        workers=max(1, args.workers),
        redis_lock_port=redis.port if redis else None,
        **({"credentials": Path(args.credentials)} if args.credentials else {}),
    )
    workers = f" with {servers.workers} workers" if servers.workers > 1 else ""
    print(f"starting the action server and the Rasa server{workers} (about 20 s)...", flush=True)
    try:
        servers.start()
    except BaseException:
        if redis is not None:
            redis.stop()
        raise
    running = announce_running_bot(servers.url, servers.api_token, var_dir=var_dir)
    print(
        f"""
The clinic bot is running.
  web channel:  POST {servers.webhook}
                curl -s {servers.webhook} -H 'Content-Type: application/json' \\
                  -d '{{"sender": "demo", "message": "does it hurt?"}}'
  widget demo:  {servers.url}/webhooks/webchat/  (open it in a browser)
  health:       {servers.url}/webhooks/webchat/  (JSON for anything but a browser)
  whatsapp:     {servers.whatsapp_webhook if whatsapp else "off (no WHATSAPP_* variables set; see README)"}
  handoff:      {"requests to be contacted go to the staff webhook at " + urlsplit(handoff.url).netloc
                 if handoff else "contact details only (no HANDOFF_WEBHOOK_URL set; see README)"}
  logs:         {servers.logs_dir}  (rotated by size; no message text)
A server that stops is restarted. Press Ctrl-C to stop both servers.""",
        flush=True,
    )
    stop = {"now": False}
    # Ctrl-C (SIGINT) and a service manager's SIGTERM both stop the two servers cleanly; SIGINT
    # is set explicitly because a shell may start background jobs with it ignored.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.update(now=True))
    try:
        while not stop["now"]:
            servers.keep_alive()  # a dead server is restarted with back-off; the other one keeps running
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        print("\nstopping...", flush=True)
        forget_running_bot(running)
        servers.stop()
        if redis is not None:
            redis.stop()
        print("stopped.")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from bot.tools.evaluate import evaluate

    return evaluate(args.min_accuracy, args.model)


def cmd_redteam(args: argparse.Namespace) -> int:
    from bot.tools.redteam import main

    return main(args.url, suites=args.suites)


def cmd_answer_eval(args: argparse.Namespace) -> int:
    from bot.tools.answer_eval import main

    return main(args.url, args.sets)


def cmd_offline_reply(args: argparse.Namespace) -> int:
    from bot.core.answer_store import ANSWERS_DIR, REGIONS_FILE
    from bot.tools.content.offline_reply import RESPONSE, build, describe, write
    from bot.tools.content.paths import ContentPaths

    domain, regions = ContentPaths.project().domain, ANSWERS_DIR / REGIONS_FILE
    problems = write(domain, regions)
    for problem in problems:
        print(problem)
    if problems:
        print(f"domain.yml was not changed: fix {REGIONS_FILE} first")
        return 1
    print(f"rewrote {RESPONSE} in domain.yml from data/answers/{REGIONS_FILE}:")
    print(describe(build(regions)))
    print("domain.yml is a training input: the next make run / make train retrains (about 3 minutes).")
    return 0


def cmd_content(args: argparse.Namespace) -> int:
    """translations-export, translations-import, retrain, rollback, review: bot/tools/content/cli.py."""
    from bot.tools.content.cli import run

    return run(args)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("validate", help="check the answer store, catalogs and safety lexicon")
    p.add_argument(
        "--strict",
        action="store_true",
        help="refuse entries pending clinical review and out-of-date translations",
    )
    p.add_argument("--no-rasa", action="store_true", help="skip `rasa data validate` (8 s)")
    p.set_defaults(func=cmd_validate)
    p = sub.add_parser("train", help="train the model if its inputs changed")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_train)
    sub.add_parser("locales", help="compile the gettext catalogs").set_defaults(func=cmd_locales)
    p = sub.add_parser("run", help="start the action server and the Rasa server")
    p.add_argument("--port", type=int, default=5005)
    p.add_argument("--action-port", type=int, default=5055)
    p.add_argument(
        "--strict",
        action="store_true",
        help="production: refuse to start while an answer is pending clinical review",
    )
    p.add_argument("--var-dir", help="where conversations, logs and secrets are kept (default: var/)")
    p.add_argument("--credentials", help="the channels' settings (default: credentials.yml)")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="Rasa server workers, one per core (more than one starts a local redis-server for their shared lock)",
    )
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("evaluate", help="intent accuracy per language on the held-out sets")
    p.add_argument("--min-accuracy", type=float, default=0.0)
    p.add_argument("--model", help="a model other than models/current.tar.gz")
    p.set_defaults(func=cmd_evaluate)
    sub.add_parser(
        "offline-reply", help="rewrite domain.yml's built-in urgent reply from regions.yml"
    ).set_defaults(func=cmd_offline_reply)
    p = sub.add_parser("redteam", help="the safety red-team suite through the web channel")
    p.add_argument("--url", default="", help="a running bot (default: start one on free ports)")
    p.add_argument(
        "--suite", action="append", dest="suites", help="a suite under data/eval/safety (default: all)"
    )
    p.set_defaults(func=cmd_redteam)
    p = sub.add_parser("answer-eval", help="right answer and language per written form on data/eval/nlu")
    p.add_argument("--url", default="", help="a running bot (default: start one on free ports)")
    p.add_argument("--set", action="append", dest="sets", help="a set under data/eval/nlu (default: all)")
    p.set_defaults(func=cmd_answer_eval)
    from bot.tools.content.cli import add_commands
    from bot.workbench.cli import add_commands as add_workbench_commands

    add_commands(sub, cmd_content)
    add_workbench_commands(sub)
    args = parser.parse_args(argv)
    return args.func(args)
