"""The workbench's pages and actions. Every change is a POST with the session's CSRF token
(checked in bot/workbench/app.py before a handler runs) and is written to the audit log."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import time
from functools import partial, wraps
from typing import List, Optional, Tuple
from urllib.parse import quote, urlencode

from aiohttp import web

from bot import LANGUAGES
from bot.workbench import analytics
from bot.workbench.accounts import Throttled
from bot.workbench.pages import render

ITEMS_PER_PAGE = 40
MAX_DAYS = 366 * 2
SESSION_COOKIE = "workbench_session"
WORKBENCH = web.AppKey("workbench", object)  # the app's Workbench (bot/workbench/app.py)


def _wb(request: web.Request):
    return request.app[WORKBENCH]


def _staff(request: web.Request):
    return request["session"].staff


async def _in_thread(func, *args, **kwargs):
    return await asyncio.get_running_loop().run_in_executor(None, partial(func, *args, **kwargs))


def _forbidden(request: web.Request, message: str) -> web.Response:
    return render(request, "message.html", status=403, title="Not allowed", message=message)


def _bad_request(request: web.Request, message: str) -> web.Response:
    return render(request, "message.html", status=400, title="Cannot do that", message=message)


def _not_found(request: web.Request, title: str, message: str) -> web.Response:
    return render(request, "message.html", status=404, title=title, message=message)


def _only(role: str, refusal: str):
    """A handler only an `editor` or a `clinician` account may use; any other gets 403 and `refusal`."""

    def wrap(handler):
        @wraps(handler)
        async def checked(request: web.Request) -> web.Response:
            staff = _staff(request)
            if not (staff.is_clinician if role == "clinician" else staff.is_editor):
                return _forbidden(request, refusal)
            return await handler(request)

        return checked

    return wrap


# ---- signing in ------------------------------------------------------------------------
def _safe_next(value: Optional[str]) -> str:
    value = str(value or "/")
    return value if value.startswith("/") and not value.startswith("//") and "\\" not in value else "/"


async def login_page(request: web.Request) -> web.Response:
    return render(request, "login.html", next=_safe_next(request.query.get("next")), error="")


async def login(request: web.Request) -> web.Response:
    wb = _wb(request)
    form = await request.post()
    name, password = str(form.get("name") or ""), str(form.get("password") or "")
    target = _safe_next(form.get("next"))
    if not name or not password:
        return render(
            request, "login.html", status=400, next=target, error="Give your name and your password."
        )
    try:
        result = await _in_thread(wb.accounts.sign_in, name, password)
    except Throttled as err:
        minutes = max(1, round(err.retry_after / 60))
        response = render(
            request,
            "login.html",
            status=429,
            next=target,
            error=f"Too many wrong passwords for this name. Try again in about {minutes} minute(s).",
        )
        response.headers["Retry-After"] = str(err.retry_after)
        wb.accounts.audit_attempt(name, "sign-in refused: too many wrong passwords (429)")
        return response
    if result is None:
        wb.accounts.audit_attempt(name, "sign-in failed: wrong name or password")
        return render(request, "login.html", status=401, next=target, error="Wrong name or password.")
    token, session = result
    wb.accounts.audit(session.staff, "signed in")
    response = web.HTTPSeeOther(target)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="Strict", secure=wb.is_secure(request), path="/"
    )
    raise response


async def logout(request: web.Request) -> web.Response:
    wb = _wb(request)
    wb.accounts.sign_out(request["session"])
    wb.accounts.audit(_staff(request), "signed out")
    response = web.HTTPSeeOther("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


# ---- the overview ------------------------------------------------------------------------
def _period(request: web.Request) -> Tuple[analytics.Period, List[str]]:
    """The date range asked for (default: the last 30 days), and what was wrong with the asking."""
    notes = []
    today = dt.datetime.now(dt.timezone.utc).date()

    def parse(name: str, default: dt.date) -> dt.date:
        raw = request.query.get(name, "").strip()
        if not raw:
            return default
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            notes.append(f"'{raw[:20]}' is not a date (YYYY-MM-DD); showing {default.isoformat()} instead")
            return default

    default = analytics.default_period(today)
    end = parse("to", default.end)
    start = parse("from", end - (default.end - default.start))
    if start > end:
        start, end = end, start
        notes.append("the start was after the end; swapped them")
    if (end - start).days >= MAX_DAYS:
        start = end - dt.timedelta(days=MAX_DAYS - 1)
        notes.append(f"at most {MAX_DAYS} days at once; showing the last {MAX_DAYS}")
    return analytics.Period(start, end), notes


async def overview(request: web.Request) -> web.Response:
    wb = _wb(request)
    period, notes = _period(request)
    started = time.perf_counter()
    data, charts = await _in_thread(wb.overview, period)
    request["server_timing"] = time.perf_counter() - started
    return render(
        request,
        "overview.html",
        period=period,
        notes=notes,
        data=data,
        charts=charts,
        index=wb.index,
        titles=wb.answer_titles(),
        regions=wb.region_names(),
        as_of=wb.charts_as_of(period),
    )


# ---- the inbox ---------------------------------------------------------------------------
async def inbox(request: web.Request) -> web.Response:
    wb = _wb(request)
    period, notes = _period(request) if ("from" in request.query or "to" in request.query) else (None, [])
    form = request.query.get("lang", "")
    try:
        page = max(1, int(request.query.get("page", "1")))
    except ValueError:
        page = 1
    started = time.perf_counter()
    groups, handled, counts = await _in_thread(wb.inbox, period, form)
    items = [(group, item) for group in groups for item in group.items]
    pages = max(1, -(-len(items) // ITEMS_PER_PAGE))
    page = min(page, pages)
    shown = items[(page - 1) * ITEMS_PER_PAGE : page * ITEMS_PER_PAGE]
    grouped: List[Tuple[analytics.InboxGroup, list]] = []
    for group, item in shown:
        if not grouped or grouped[-1][0] is not group:
            grouped.append((group, []))
        grouped[-1][1].append(item)
    request["server_timing"] = time.perf_counter() - started
    query = {k: v for k, v in request.query.items() if k != "page"}
    return render(
        request,
        "inbox.html",
        grouped=grouped,
        total=len(items),
        handled=handled,
        counts=counts,
        page=page,
        pages=pages,
        query=urlencode(query),
        lang=form,
        period=period,
        notes=notes,
        intents=wb.intents(),
        index=wb.index,
        forms=analytics.FORMS,
    )


async def conversation(request: web.Request) -> web.Response:
    wb = _wb(request)
    found = wb.index.get(request.match_info["pseudonym"])
    if found is None:
        return render(
            request,
            "message.html",
            status=404,
            title="No such conversation",
            message="There is no conversation with this code in the tracker store.",
        )
    with wb.index.lock:  # the reader thread may be adding to this conversation
        flagged = {t.event_id: t for t in found.flagged}
        page = render(
            request,
            "conversation.html",
            conversation=found,
            flagged=flagged,
            highlight=request.query.get("event", ""),
            titles=wb.answer_titles(),
            mask_contact_details=wb.mask_contact_details,
        )
    return page


@_only("editor", "Only an editor account files messages as training examples.")
async def relabel(request: web.Request) -> web.Response:
    wb = _wb(request)
    staff = _staff(request)
    form = await request.post()
    item_id = request.match_info["item"]
    item = await _in_thread(wb.find_item, item_id)
    if item is None:
        return _not_found(
            request,
            "Not in the inbox",
            "This message is no longer in the inbox (already dealt with, or the store changed).",
        )
    choice = str(form.get("choice") or "")
    if choice == "ignore":
        wb.accounts.mark_handled(item.id, "ignored", staff)
        wb.accounts.audit(staff, "inbox: ignored", f"{item.form} / guessed {item.guess}: {item.text}")
        raise web.HTTPSeeOther(_back_to_inbox(form))
    written_form = str(form.get("form") or item.form)
    text = str(form.get("text") or item.text)
    outcome = await wb.relabel(staff, item, text, written_form, choice)
    status = 200 if outcome["written"] else 422
    return render(
        request, "change.html", status=status, outcome=outcome, item=item, back=_back_to_inbox(form)
    )


def _back_to_inbox(form) -> str:
    back = str(form.get("back") or "/inbox")
    return back if back.startswith("/inbox") else "/inbox"


# ---- answers and sign-off -----------------------------------------------------------------
def text_fingerprint(answer) -> str:
    """What a clinician read: the three texts (an approval of other texts is refused)."""
    joined = "\x1f".join(answer.text[lang] for lang in LANGUAGES)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:16]


async def answers(request: web.Request) -> web.Response:
    wb = _wb(request)
    store, problems = await _in_thread(wb.answer_store)
    show_all = request.query.get("show") == "all"
    entries = []
    if store is not None:
        entries = sorted(
            (a for a in store.answers.values() if show_all or a.needs_clinician),
            key=lambda a: (a.review_status == "approved", a.path.name, a.line),
        )
    return render(
        request,
        "answers.html",
        entries=entries,
        problems=[str(p) for p in problems if p.severity == "error"][:20],
        show_all=show_all,
        fingerprint=text_fingerprint,
        languages=LANGUAGES,
        waiting=sum(1 for a in entries if a.awaiting_sign_off),
    )


@_only("clinician", "Only a clinician account can approve an answer. Nothing was changed.")
async def approve(request: web.Request) -> web.Response:
    wb = _wb(request)
    staff = _staff(request)
    answer_id = request.match_info["answer_id"]
    form = await request.post()
    if form.get("confirm") != "read":
        return _bad_request(request, "Tick the box to confirm you have read the texts, then approve.")
    store, _ = await _in_thread(wb.answer_store)
    answer = store.answers.get(answer_id) if store else None
    if answer is None:
        return _not_found(request, "No such answer", f"No answer '{answer_id}'.")
    if form.get("fingerprint") != text_fingerprint(answer):
        return render(
            request,
            "message.html",
            status=409,
            title="The text changed",
            message="This answer's text changed since you opened the page. Read it again, then approve.",
        )
    outcome = await wb.approve(staff, answer_id)
    if outcome:
        return render(request, "message.html", status=422, title="Not approved", message=outcome)
    raise web.HTTPSeeOther(f"/answers#{quote(answer_id)}")


@_only("editor", "Only an editor account changes answer texts.")
async def edit_page(request: web.Request) -> web.Response:
    wb = _wb(request)
    store, _ = await _in_thread(wb.answer_store)
    answer = store.answers.get(request.match_info["answer_id"]) if store else None
    if answer is None:
        return _not_found(request, "No such answer", "No such answer.")
    return render(request, "answer_edit.html", answer=answer, languages=LANGUAGES)


@_only("editor", "Only an editor account changes answer texts. Nothing was changed.")
async def edit(request: web.Request) -> web.Response:
    wb = _wb(request)
    staff = _staff(request)
    form = await request.post()
    texts = {
        lang: str(form.get(f"text_{lang}")) for lang in LANGUAGES if form.get(f"text_{lang}") is not None
    }
    outcome = await wb.edit_answer(staff, request.match_info["answer_id"], texts)
    return render(
        request,
        "change.html",
        status=200 if outcome["written"] else 422,
        outcome=outcome,
        item=None,
        back=f"/answers#{quote(request.match_info['answer_id'])}",
    )


# ---- models --------------------------------------------------------------------------------
async def models(request: web.Request) -> web.Response:
    wb = _wb(request)
    info = await _in_thread(wb.models_info)
    job = wb.jobs.get(request.query["job"]) if request.query.get("job") else wb.jobs.latest()
    return render(request, "models.html", info=info, job=job, rollback=request.get("rollback_output"))


@_only("editor", "Only an editor account retrains the bot.")
async def retrain(request: web.Request) -> web.Response:
    wb = _wb(request)
    staff = _staff(request)
    form = await request.post()
    try:
        job = wb.jobs.start(staff.name, ["--force"] if form.get("force") == "yes" else [])
    except RuntimeError as err:
        return render(request, "message.html", status=409, title="Already retraining", message=str(err))
    wb.accounts.audit(
        staff,
        "retrain started",
        f"job {job.id}" + (" (FORCE: promote even if worse)" if form.get("force") == "yes" else ""),
    )
    raise web.HTTPSeeOther(f"/models?job={job.id}")


async def job_status(request: web.Request) -> web.Response:
    wb = _wb(request)
    job = wb.jobs.get(request.match_info["job"])
    if job is None:
        return web.json_response({"error": "no such job"}, status=404)
    wb.note_job_end(job)
    return web.json_response({**job.as_dict(), "output": job.output[-20000:]})


@_only("editor", "Only an editor account rolls the model back.")
async def rollback(request: web.Request) -> web.Response:
    wb = _wb(request)
    staff = _staff(request)
    await request.post()
    if wb.jobs.current() is not None:
        return render(
            request,
            "message.html",
            status=409,
            title="Retraining",
            message="A retraining is running; roll back after it has finished.",
        )
    output = await _in_thread(wb.rollback, staff)
    request["rollback_output"] = output
    return await models(request)


async def audit(request: web.Request) -> web.Response:
    return render(request, "audit.html", entries=_wb(request).accounts.audit_log(500))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/", overview)
    app.router.add_get("/inbox", inbox)
    app.router.add_post("/inbox/{item:[0-9a-f]{16}}/relabel", relabel)
    app.router.add_get("/conversations/{pseudonym:c-[0-9a-f]{10}}", conversation)
    app.router.add_get("/answers", answers)
    app.router.add_post("/answers/{answer_id:[a-z0-9_.-]{1,80}}/approve", approve)
    app.router.add_get("/answers/{answer_id:[a-z0-9_.-]{1,80}}/edit", edit_page)
    app.router.add_post("/answers/{answer_id:[a-z0-9_.-]{1,80}}/edit", edit)
    app.router.add_get("/models", models)
    app.router.add_post("/models/retrain", retrain)
    app.router.add_get("/models/jobs/{job:[0-9-]{15,20}}.json", job_status)
    app.router.add_post("/models/rollback", rollback)
    app.router.add_get("/audit", audit)
