"""Command line of the clinic bot: `python -m bot <command>` (the Makefile calls these)."""

from __future__ import annotations

import argparse
import signal
import sys
import time

from bot.settings import strict_mode


def cmd_validate(args: argparse.Namespace) -> int:
    from bot.validate import check_content

    problems = check_content(strict=args.strict or strict_mode())
    errors = [p for p in problems if p.severity == "error"]
    for problem in problems:
        print(problem)
    print(f"answer store: {len(errors)} error(s), {len(problems) - len(errors)} warning(s)"
          + (" [strict: pending entries refused]" if args.strict else ""))
    return 1 if errors else 0


def cmd_train(args: argparse.Namespace) -> int:
    from bot.model import model_path, train

    elapsed = train(force=args.force)
    if elapsed is None:
        print(f"model is up to date: {model_path()}")
    else:
        print(f"trained {model_path()} in {elapsed:.1f} s")
    return 0


def cmd_locales(_: argparse.Namespace) -> int:
    from bot.i18n import compile_catalogs

    for path in compile_catalogs():
        print(f"compiled {path}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from bot.answer_store import AnswerStore
    from bot.model import train
    from bot.servers import BotServers

    AnswerStore.load(strict=strict_mode())  # refuse to start on an invalid store
    elapsed = train()
    if elapsed is not None:
        print(f"trained the model in {elapsed:.1f} s")
    servers = BotServers(rasa_port=args.port, action_port=args.action_port)
    print("starting the action server and the Rasa server (about 20 s)...", flush=True)
    servers.start()
    print(f"""
The clinic bot is running.
  web channel:  POST {servers.webhook}
                curl -s {servers.webhook} -H 'Content-Type: application/json' \\
                  -d '{{"sender": "demo", "message": "does it hurt?"}}'
  health:       {servers.url}/webhooks/webchat/
  logs:         {servers.logs_dir}
Press Ctrl-C to stop both servers.""", flush=True)
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    try:
        while not stop["now"]:
            for proc in servers.processes:
                if proc.poll() is not None:
                    print(f"the {proc.name} process stopped (status {proc.returncode}); "
                          f"see {servers.logs_dir}/{proc.name}.log", file=sys.stderr)
                    stop["now"] = True
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        print("\nstopping...", flush=True)
        servers.stop()
        print("stopped.")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from bot.evaluate import evaluate

    return evaluate(args.min_accuracy, args.model)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("validate", help="check the answer store, catalogs and safety lexicon")
    p.add_argument("--strict", action="store_true", help="refuse entries pending clinical review")
    p.set_defaults(func=cmd_validate)
    p = sub.add_parser("train", help="train the model if its inputs changed")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_train)
    sub.add_parser("locales", help="compile the gettext catalogs").set_defaults(func=cmd_locales)
    p = sub.add_parser("run", help="start the action server and the Rasa server")
    p.add_argument("--port", type=int, default=5005)
    p.add_argument("--action-port", type=int, default=5055)
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("evaluate", help="intent accuracy per language on the held-out sets")
    p.add_argument("--min-accuracy", type=float, default=0.0)
    p.add_argument("--model", help="a model other than models/current.tar.gz")
    p.set_defaults(func=cmd_evaluate)
    args = parser.parse_args(argv)
    return args.func(args)
