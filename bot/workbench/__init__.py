"""The clinic's staff workbench: how the bot is doing, what it handled badly, clinical sign-off.

A separate process from the patient-facing Rasa server (`python -m bot workbench`,
`make workbench`), on 127.0.0.1:5007 unless told otherwise (bot/workbench/settings.py), so
no staff route is ever reachable on the bot's public port. It reads the tracker store the
bot writes (read only) and the project's `data/`, and changes `data/` only for a signed-in
editor, through the content tools (bot/tools/content: relabel, answer_edit, signoff, retrain).

- `accounts`: staff accounts (Argon2id), sessions, the sign-in throttle, the audit log;
- `store` and `conversations`: the tracker store read incrementally into memory;
- `analytics`: the overview's figures and the inbox; `charts`: matplotlib SVG;
- `jobs`: retraining in the background; `routes`, `pages`, templates/: the pages;
- `app`: the checks every request passes (`make_app`, `serve`); `cli`: the commands.


Public surface: `bot.workbench.app.make_app(settings)` and `serve(settings)`,
`bot.workbench.settings.from_environment()`. Nothing is imported here, so `python -m bot`'s
other commands do not load the web server and matplotlib.
"""
