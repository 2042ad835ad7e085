"""The workbench application: its state, what each action does, and the checks every request passes.

Every request, in this order: an unknown route is a 404 (nothing else is said); security
headers on every answer; the session cookie is looked up (no valid session: a page redirects
to /login, anything else gets 401, and no patient text is ever sent); every POST but /login
must carry the session's CSRF token (403 otherwise, before the handler runs).
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import ssl
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from aiohttp import web

from bot.tools.content.changes import ChangeRefused
from bot.tools.content.review import mask_contact_details
from bot.workbench import analytics, charts
from bot.workbench.accounts import Accounts, Staff
from bot.workbench.conversations import ConversationIndex
from bot.workbench.jobs import Jobs
from bot.workbench.pages import STATIC, render
from bot.workbench.routes import SESSION_COOKIE, WORKBENCH, add_routes
from bot.workbench.settings import Settings

logger = logging.getLogger("bot.workbench")
PUBLIC = ("/login", "/static/")
READER = web.AppKey("reader", asyncio.Task)
MAX_BODY = 1024 * 1024
SECURITY_HEADERS = {
    # Inline SVG charts carry style attributes; no inline script anywhere.
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class Workbench:
    """The state behind the pages, and every change they make (each one audited)."""

    def __init__(self, settings: Settings, accounts: Optional[Accounts] = None):
        self.settings = settings
        self.accounts = accounts or Accounts(settings.accounts_db)
        self.index = ConversationIndex(settings.store.open())
        self.jobs = Jobs(settings.jobs_dir, settings.retrain_command, settings.content.root)
        self.mask_contact_details = mask_contact_details
        self._change_lock = (
            asyncio.Lock()
        )  # one change of data/ at a time: each is checked on the files as they are
        self._chart_cache: Dict[Tuple, Tuple[int, float, object, dict]] = {}
        self._chart_lock = threading.Lock()
        self._store_cache: Tuple[str, object, list] = ("", None, [])
        self._inbox_cache: Tuple[tuple, object] = ((), None)
        self._jobs_noted: set = set()

    # -- reading -----------------------------------------------------------------------------
    def overview(self, period: analytics.Period):
        """The figures (always fresh) and the charts (redrawn at most every chart_max_age seconds
        while new messages keep coming: drawing them is what takes time)."""
        key = (period.start, period.end)
        conversations = self.index.snapshot()
        with self.index.lock:
            data = analytics.overview(conversations, period)
            version = self.index.version
        with self._chart_lock:
            cached = self._chart_cache.get(key)
            if cached and (cached[0] == version or time.time() - cached[1] < self.settings.chart_max_age):
                return data, cached[3]  # the figures are always fresh; the charts say when they were drawn
            drawn = charts.overview_charts(data, self.answer_titles(), self.region_names())
            if len(self._chart_cache) > 16:
                self._chart_cache.clear()
            self._chart_cache[key] = (version, time.time(), data, drawn)
            return data, drawn

    def charts_as_of(self, period: analytics.Period) -> Optional[float]:
        cached = self._chart_cache.get((period.start, period.end))
        return cached[1] if cached else None

    def inbox(self, period: Optional[analytics.Period], form: str = ""):
        """(groups, items already dealt with, items per written form)."""
        handled = self.accounts.handled()
        key = (self.index.version, period, len(handled), form)
        if self._inbox_cache[0] == key:
            return self._inbox_cache[1]
        with self.index.lock:
            groups, hidden = analytics.inbox(self.index.snapshot(), period, handled)
        counts: Dict[str, int] = {}
        for group in groups:
            counts[group.form] = counts.get(group.form, 0) + len(group.items)
        if form:
            groups = [g for g in groups if g.form == form]
        result = (groups, hidden, counts)
        self._inbox_cache = (key, result)
        return result

    def find_item(self, item_id: str):
        with self.index.lock:
            return analytics.find_item(self.index.snapshot(), item_id)

    def intents(self) -> List[str]:
        from bot.tools.content.relabel import intent_choices

        try:
            return intent_choices(self.settings.content)
        except Exception:  # a domain.yml being edited: the page still shows, the choice list is empty
            logger.exception("cannot read the intents of domain.yml")
            return []

    def answer_store(self):
        """(store or None, problems), read again whenever a file of data/answers changes."""
        from bot.tools.content.store_rules import load_store

        folder = self.settings.content.answers
        stamp = "|".join(f"{p.name}:{p.stat().st_mtime_ns}" for p in sorted(folder.glob("*.yml")))
        if self._store_cache[0] != stamp:
            store, problems = load_store(folder)
            self._store_cache = (stamp, store, problems)
        return self._store_cache[1], self._store_cache[2]

    def answer_titles(self) -> Dict[str, str]:
        store, _ = self.answer_store()
        return {a.id: a.title["en"] for a in store.answers.values()} if store else {}

    def region_names(self) -> Dict[str, str]:
        store, _ = self.answer_store()
        if not store:
            return {}
        names = {code: region.name.get("en", code) for code, region in store.regions.regions.items()}
        names["unknown"] = "region not known"
        return names

    def models_info(self) -> dict:
        from bot.tools.content.registry import Registry

        registry = Registry(self.settings.models_dir)
        try:
            current = registry.in_service()
        except OSError:
            current = None
        records = []
        for record in reversed(registry.records()[-12:]):
            report = record.report() or {}
            accuracy = {
                lang: figures.get("accuracy") for lang, figures in (report.get("languages") or {}).items()
            }
            records.append({"id": record.id, "info": record.info, "accuracy": accuracy})
        return {
            "current": current.id if current else None,
            "exists": registry.current.exists(),
            "records": records,
            "served": registry.served(),
        }

    # -- changing -----------------------------------------------------------------------------
    async def _checked_change(self, staff: Staff, change_plan, audit_action: str, rasa: bool) -> dict:
        """Plan, check on a copy, write if it passes; the outcome for the page (never raises for content)."""
        loop = asyncio.get_running_loop()
        async with self._change_lock:
            try:
                change = await loop.run_in_executor(None, change_plan)
            except ChangeRefused as err:
                return {
                    "written": False,
                    "reasons": err.reasons,
                    "diff": "",
                    "problems": [],
                    "warnings": [],
                    "what": "",
                }
            result = await loop.run_in_executor(None, lambda: change.check(rasa=rasa))
            outcome = {
                "what": change.what,
                "diff": change.diff(),
                "warnings": [self._shown(p) for p in result.warnings],
                "problems": [self._shown(p) for p in result.errors],
                "reasons": [],
                "written": False,
                "rasa": rasa,
            }
            if not result.passed:
                outcome["reasons"] = ["make validate would report a new error: nothing was written"]
                self.accounts.audit(
                    staff, audit_action + " refused", change.what + "; " + "; ".join(outcome["problems"][:3])
                )
                return outcome
            try:
                written = await loop.run_in_executor(None, change.apply)
            except ChangeRefused as err:
                outcome["reasons"] = err.reasons
                return outcome
            outcome["written"] = True
            outcome["files"] = [self.settings.content.show(p) for p in written]
            self.accounts.audit(staff, audit_action, change.what)
            return outcome

    def _shown(self, problem) -> str:
        prefix = "" if problem.severity == "error" else "warning: "
        return f"{self.settings.content.show(problem.path)}:{problem.line}: {prefix}{problem.message}"

    async def relabel(self, staff: Staff, item, text: str, form: str, choice: str) -> dict:
        from bot.tools.content import relabel as relabel_module

        paths = self.settings.content
        rasa = self.settings.validate_with_rasa and choice not in relabel_module.SAFETY_LABELS
        outcome = await self._checked_change(
            staff, lambda: relabel_module.plan(paths, text, form, choice).change, "inbox: filed", rasa
        )
        if outcome["written"]:
            self.accounts.mark_handled(item.id, f"filed as {choice}", staff)
        # only the new text's own warnings are worth showing here
        shown = relabel_module.clean(text)
        outcome["warnings"] = [w for w in outcome["warnings"] if shown and shown in w]
        return outcome

    async def edit_answer(self, staff: Staff, answer_id: str, texts: Dict[str, str]) -> dict:
        from bot.tools.content.answer_edit import plan_text_edit

        outcome = await self._checked_change(
            staff,
            lambda: plan_text_edit(self.settings.content, answer_id, texts),
            "answer text changed",
            False,
        )
        outcome["warnings"] = [w for w in outcome["warnings"] if f"'{answer_id}'" in w]
        return outcome

    async def approve(self, staff: Staff, answer_id: str) -> Optional[str]:
        """A clinician's sign-off, recorded with their account's name and registration; the
        reason it was refused, or None."""
        from bot.tools.content.signoff import SignOffRefused, approve

        if not staff.is_clinician:
            return "only a clinician can approve an answer"
        async with self._change_lock:
            try:
                await asyncio.get_running_loop().run_in_executor(
                    None,
                    lambda: approve(
                        answer_id,
                        staff.name,
                        "clinician",
                        staff.registration,
                        folder=self.settings.content.answers,
                    ),
                )
            except SignOffRefused as err:
                self.accounts.audit(staff, "approval refused", f"{answer_id}: {err}")
                return str(err)
        self.accounts.audit(staff, "answer approved", f"{answer_id} (registration {staff.registration})")
        return None

    def rollback(self, staff: Staff) -> str:
        from bot.tools.content.registry import Registry
        from bot.tools.content.retrain import reload_running_bot, rollback

        out = io.StringIO()
        status = rollback(models_dir=self.settings.models_dir, reload=False, out=out)
        if status == 0:
            out.write(
                reload_running_bot(Registry(self.settings.models_dir).current, self.settings.var_dir) + "\n"
            )
        self.accounts.audit(
            staff, "rollback" if status == 0 else "rollback refused", out.getvalue().strip()[:500]
        )
        return out.getvalue()

    def note_job_end(self, job) -> None:
        if not job.running and job.id not in self._jobs_noted:
            self._jobs_noted.add(job.id)
            self.accounts.audit(Staff(job.who, "editor"), "retrain finished", f"job {job.id}: {job.outcome}")

    def is_secure(self, request: web.Request) -> bool:
        if request.secure:
            return True
        return self.settings.behind_tls_proxy and request.headers.get("X-Forwarded-Proto", "") == "https"

    # -- background --------------------------------------------------------------------------
    async def keep_reading(self) -> None:
        """Read new events every refresh_seconds; redraw the default overview's charts in the
        background when something changed, so the page does not wait for them."""
        loop = asyncio.get_running_loop()
        drawn_for = -1
        while True:
            try:
                await loop.run_in_executor(None, self.index.refresh)
                if self.index.version != drawn_for and self.index.available:
                    drawn_for = self.index.version
                    await loop.run_in_executor(None, self.overview, analytics.default_period())
                for job in list(self.jobs.jobs.values()):
                    self.note_job_end(job)
            except Exception:  # never let the reader die
                logger.exception("refreshing the conversations failed")
            await asyncio.sleep(self.settings.refresh_seconds)


# ---- middlewares ------------------------------------------------------------------------------
@web.middleware
async def errors(request: web.Request, handler):
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.exception("error on %s %s", request.method, request.path)
        return web.Response(
            status=500,
            content_type="text/html",
            text="<!doctype html><title>Error</title><p>Something went wrong; it was logged. "
            "Nothing was changed unless the page said so. <a href='/'>Back</a></p>",
        )


@web.middleware
async def headers(request: web.Request, handler):
    started = time.perf_counter()
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
        _secure_headers(response, request, started)
        raise
    _secure_headers(response, request, started)
    return response


def _secure_headers(response, request: web.Request, started: float) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if "server_timing" in request:
        response.headers["Server-Timing"] = f"app;dur={request['server_timing'] * 1000:.1f}"
    response.headers["X-Response-Time-Ms"] = f"{(time.perf_counter() - started) * 1000:.1f}"


@web.middleware
async def unknown_routes(request: web.Request, handler):
    exception = request.match_info.http_exception
    if exception is not None:
        status = exception.status
        return web.Response(
            status=status,
            content_type="text/html",
            text=f"<!doctype html><title>{status}</title>"
            f"<p>{'Not found' if status == 404 else exception.reason}."
            " <a href='/'>Back to the workbench</a></p>",
        )
    return await handler(request)


@web.middleware
async def sessions(request: web.Request, handler):
    if request.path.startswith(PUBLIC):
        request["session"] = None
        return await handler(request)
    wb: Workbench = request.app[WORKBENCH]
    session = wb.accounts.session(request.cookies.get(SESSION_COOKIE))
    if session is None:
        if request.method == "GET" and "text/html" in request.headers.get("Accept", "text/html"):
            raise web.HTTPSeeOther("/login" + (f"?next={request.path}" if request.path != "/" else ""))
        return web.json_response({"error": "sign in first", "login": "/login"}, status=401)
    request["session"] = session
    if request.method == "POST":
        form = await request.post()
        given = form.get("csrf") or request.headers.get("X-CSRF-Token")
        if not wb.accounts.csrf_ok(session, given if isinstance(given, str) else None):
            wb.accounts.audit(session.staff, "refused: a POST without the page's CSRF token", request.path)
            return render(
                request,
                "message.html",
                status=403,
                title="Refused",
                message="This form is out of date or did not come from the workbench (its security "
                "token is missing or wrong). Nothing was changed. Reload the page and try again.",
            )
    return await handler(request)


# ---- the app ---------------------------------------------------------------------------------
def make_app(settings: Settings, workbench: Optional[Workbench] = None) -> web.Application:
    app = web.Application(middlewares=[errors, headers, unknown_routes, sessions], client_max_size=MAX_BODY)
    wb = workbench or Workbench(settings)
    app[WORKBENCH] = wb
    add_routes(app)
    app.router.add_static("/static/", STATIC, show_index=False)

    async def start_reading(app_: web.Application):
        await asyncio.get_running_loop().run_in_executor(None, wb.index.refresh)
        app_[READER] = asyncio.create_task(wb.keep_reading())

    async def stop(app_: web.Application):
        task = app_.get(READER)
        if task:
            task.cancel()
        wb.jobs.stop_all()
        wb.index.source.close()

    app.on_startup.append(start_reading)
    app.on_cleanup.append(stop)
    return app


def ssl_context(settings: Settings) -> Optional[ssl.SSLContext]:
    if not settings.tls_cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(settings.tls_cert), str(settings.tls_key))
    return context


def serve(settings: Settings) -> int:
    """Run until Ctrl-C or SIGTERM."""
    os.umask(0o077)
    Path(settings.var_dir).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiohttp.access").setLevel(
        logging.WARNING
    )  # URLs carry no patient text, but keep it quiet
    app = make_app(settings)
    wb: Workbench = app[WORKBENCH]
    staff = wb.accounts.staff()
    print(f"Staff workbench on {settings.url}  (tracker store: {wb.index.source.description})", flush=True)
    if settings.exposed:
        print(
            f"WARNING: listening on {settings.host}, not only this machine: staff pages show patients' "
            "messages. Serve it over TLS (WORKBENCH_TLS_CERT/KEY or a TLS proxy) behind a firewall.",
            flush=True,
        )
    if not staff:
        print(
            "No staff account yet: create one with  printf '%s\\n' 'a long password' | make staff-user "
            "NAME='Sara' ROLE=editor",
            flush=True,
        )
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        ssl_context=ssl_context(settings),
        print=None,
        access_log=None,
        shutdown_timeout=5,
    )
    return 0
