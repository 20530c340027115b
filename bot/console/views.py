"""The console's pages. Every one needs a session (see app.require_session); roles narrow
who may act: operators handle conversations, trainers the inbox and the simulator, admins
everything including users."""

from __future__ import annotations

import csv
import io
import math
import secrets
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import urlparse

import sqlalchemy as sa
import yaml
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy.orm import Session

from bot.console import dashboard as dash
from bot.console import tracker
from bot.console.app import rasa
from bot.console.auth import attempt_login, requires
from bot.console.operations import (
    RESOLUTIONS,
    OperationError,
    Operations,
    account_panel,
    actor_name,
    handoff_queue,
    header_counts,
)
from bot.console.rasa_client import RasaUnavailableError
from bot.console.simulator import SimulationError, seed_conversation, start_simulation
from bot.inbox import EMOTIONS, InboxError, ReviewedExample, record_review, reviewed_examples
from bot.privacy import sender_phone
from bot.settings import PROJECT_ROOT
from bot.storage import AccountRepository, AgreementRepository, get_database, record_audit
from bot.storage.models import ACCOUNT_FLAGS, ACCOUNT_STATUSES, Account
from bot.storage.types import utcnow
from bot.storage.users import ROLES, UserError, UserRepository

console = Blueprint("console", __name__)
PAGE_SIZE = 25
FLAG_FILTERS = ("handoff", "disputed", "vulnerable", "opted_out", "agreement")


def _db() -> Any:
    return get_database().session()


def _engine() -> Any:
    return get_database().engine


def _ops() -> Operations:
    return Operations(rasa())


@console.app_context_processor
def _layout() -> dict[str, Any]:
    counts = {"waiting": 0, "taken": 0}
    if g.get("user") is not None:
        with _db() as db:
            counts = header_counts(db)
    return {"user": g.get("user"), "counts": counts}


@console.app_template_filter("when")
def _when(value: datetime | None) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if value else "-"


@console.app_template_filter("masked")
def _masked(value: str | None) -> str:
    return tracker.masked(value)


@console.app_template_filter("pct")
def _pct(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "-"


@console.app_template_filter("waited")
def _waited(value: datetime) -> str:
    minutes = max(0, int((utcnow() - value).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{hours // 24} days"


# --- login ------------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host) may follow the login."""
    if target and target.startswith("/") and not target.startswith("//"):
        parsed = urlparse(target)
        if not parsed.scheme and not parsed.netloc:
            return target
    return url_for("console.conversations")


@console.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        if g.get("user") is not None:
            return redirect(url_for("console.conversations"))
        return render_template("login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    with _db() as db:
        result = attempt_login(db, username, password, request.remote_addr)
    if result.error:
        return (
            render_template(
                "login.html", error=result.error, username=username, next=request.form.get("next")
            ),
            401,
        )
    session.clear()
    session.permanent = True
    session["user"] = result.username
    return redirect(_safe_next(request.form.get("next")))


@console.route("/logout", methods=["POST"])
def logout() -> Any:
    with _db() as db:
        record_audit(db, actor_name(g.user.username), "console_logout")
    session.clear()
    return redirect(url_for("console.login"))


@console.route("/")
def home() -> Any:
    return redirect(url_for("console.conversations"))


@console.route("/api/counts")
def api_counts() -> Any:
    with _db() as db:
        return jsonify(header_counts(db))


# --- conversations ---------------------------------------------------------------------


def account_for_sender(db: Session, sender_id: str) -> Account | None:
    repo = AccountRepository(db)
    if tracker.is_simulated(sender_id):
        return repo.get_by_ref(sender_id)
    phone = sender_phone(sender_id)
    return repo.find_by_phone(phone) if phone else None


def _parse_day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@console.route("/conversations")
def conversations() -> Any:
    args = request.args
    status, flag, emotion = args.get("status", ""), args.get("flag", ""), args.get("emotion", "")
    since, until = _parse_day(args.get("from")), _parse_day(args.get("to"))
    query = args.get("q", "").strip().lower()
    show_sim = args.get("sim", "1") == "1"
    summaries = tracker.conversation_summaries(_engine())
    rows = []
    with _db() as db:
        repo = AccountRepository(db)
        accounts = {a.phone: a for a in repo.all()}
        for summary in summaries:
            if summary.simulated and not show_sim:
                continue
            if summary.simulated:
                account = repo.get_by_ref(summary.sender_id)
            else:
                phone = sender_phone(summary.sender_id)
                account = accounts.get(phone) if phone else None
            flags = repo.active_flags(account) if account else []
            has_agreement = bool(account and AgreementRepository(db).active_for(account))
            row: dict[str, Any] = {
                "summary": summary,
                "account": account,
                "flags": flags,
                "status": "simulated"
                if summary.simulated
                else (account.status if account else "unknown number"),
                "agreement": has_agreement,
            }
            if status and row["status"] != status:
                continue
            if flag == "agreement" and not has_agreement:
                continue
            if flag and flag != "agreement" and flag not in flags:
                continue
            if emotion and summary.last_emotion != emotion:
                continue
            day = summary.last_at.date() if summary.last_at else None
            if since and (day is None or day < since):
                continue
            if until and (day is None or day > until):
                continue
            if query:
                ref = account.account_ref.lower() if account else ""
                if query not in summary.sender_id.lower() and query not in ref:
                    continue
            rows.append(row)
    epoch = datetime.min.replace(tzinfo=timezone.utc)
    rows.sort(key=lambda r: r["summary"].last_at or epoch, reverse=True)
    pages = max(1, math.ceil(len(rows) / PAGE_SIZE))
    page = min(max(1, args.get("page", 1, type=int) or 1), pages)
    shown = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    filters = {k: v for k, v in args.items() if k != "page"}
    return render_template(
        "conversations.html",
        rows=shown,
        total=len(rows),
        page=page,
        pages=pages,
        filters=filters,
        statuses=(*ACCOUNT_STATUSES, "simulated", "unknown number"),
        flag_filters=FLAG_FILTERS,
        emotions=EMOTIONS,
    )


@console.route("/conversations/<path:sender_id>")
def transcript(sender_id: str) -> Any:
    turns = tracker.transcript(_engine(), sender_id)
    with _db() as db:
        account = account_for_sender(db, sender_id)
        panel = account_panel(db, account) if account else None
        locked = bool(account and account.identity_locked_at)
    if not turns and panel is None:
        abort(404)
    paused = tracker.is_paused(_engine(), sender_id)
    return render_template(
        "transcript.html",
        sender_id=sender_id,
        simulated=tracker.is_simulated(sender_id),
        turns=turns,
        account=panel,
        locked=locked,
        paused=paused,
        resolutions=RESOLUTIONS,
        nonce=secrets.token_urlsafe(12),
    )


@console.route("/conversations/<path:sender_id>/story")
def export_story(sender_id: str) -> Any:
    from bot.transcripts import TranscriptNotFoundError
    from bot.transcripts import export_story as story_yaml

    try:
        text = story_yaml(sender_id)
    except TranscriptNotFoundError as exc:
        flash(str(exc), "error")
        return redirect(url_for("console.transcript", sender_id=sender_id))
    with _db() as db:
        record_audit(
            db, actor_name(g.user.username), "console_export_story", detail={"sender_id": sender_id}
        )
    safe = "".join(c if c.isalnum() else "_" for c in sender_id)
    return Response(
        text,
        mimetype="text/yaml",
        headers={"Content-Disposition": f'attachment; filename="story_{safe}.yml"'},
    )


def _conversation_account(sender_id: str) -> str:
    with _db() as db:
        account = account_for_sender(db, sender_id)
        if account is None:
            abort(404)
        return str(account.account_ref)


def _back(sender_id: str) -> Any:
    return redirect(url_for("console.transcript", sender_id=sender_id))


def _run(sender_id: str, action: Any, done: str) -> Any:
    try:
        result = action()
    except (OperationError, RasaUnavailableError) as exc:
        flash(str(exc), "error")
        return _back(sender_id)
    flash(done.format(result=result), "ok")
    return _back(sender_id)


@console.route("/conversations/<path:sender_id>/takeover", methods=["POST"])
@requires("operator")
def take_over(sender_id: str) -> Any:
    ref = _conversation_account(sender_id)
    return _run(
        sender_id,
        lambda: _ops().take_over(ref, sender_id, g.user.username),
        "You have this conversation: the bot is paused for it.",
    )


@console.route("/conversations/<path:sender_id>/handback", methods=["POST"])
@requires("operator")
def hand_back(sender_id: str) -> Any:
    ref = _conversation_account(sender_id)
    return _run(
        sender_id,
        lambda: _ops().hand_back(ref, sender_id, g.user.username),
        "Handed back: the bot answers this conversation again.",
    )


@console.route("/conversations/<path:sender_id>/reply", methods=["POST"])
@requires("operator")
def reply(sender_id: str) -> Any:
    ref = _conversation_account(sender_id)
    text, nonce = request.form.get("text", ""), request.form.get("nonce", "")
    if not nonce:
        nonce = secrets.token_urlsafe(12)
    try:
        status, reason = _ops().reply(ref, sender_id, text, g.user.username, nonce)
    except (OperationError, RasaUnavailableError) as exc:
        flash(str(exc), "error")
        return _back(sender_id)
    flash(f"Reply {status}: {reason}", "ok" if status == "sent" else "error")
    return _back(sender_id)


@console.route("/conversations/<path:sender_id>/note", methods=["POST"])
@requires("operator")
def note(sender_id: str) -> Any:
    ref = _conversation_account(sender_id)
    return _run(
        sender_id,
        lambda: _ops().add_note(ref, request.form.get("note", ""), g.user.username),
        "Note added.",
    )


@console.route("/conversations/<path:sender_id>/resolve", methods=["POST"])
@requires("operator")
def resolve(sender_id: str) -> Any:
    ref = _conversation_account(sender_id)
    resolution, text = request.form.get("resolution", ""), request.form.get("note", "")

    def act() -> str:
        try:
            return _ops().resolve(ref, resolution, g.user.username, text)
        except Exception as exc:
            from bot.storage.identity import AccountNotLockedError

            if isinstance(exc, AccountNotLockedError):
                raise OperationError(str(exc)) from None
            raise

    return _run(sender_id, act, "Recorded: {result}.")


# --- hand-offs, agreements --------------------------------------------------------------


@console.route("/handoffs")
def handoffs() -> Any:
    with _db() as db:
        queue = handoff_queue(db)
    return render_template("handoffs.html", queue=queue)


def _agreement_rows() -> list[dict[str, Any]]:
    today = utcnow().date()
    with _db() as db:
        rows = [AgreementRepository.to_dict(a) for a in AgreementRepository(db).list()]
    for row in rows:
        due = [
            s["due_date"]
            for s in row["schedule"]
            if s["status"] == "due" and s["due_date"] >= today.isoformat()
        ]
        row["next_due"] = due[0] if due and row["status"] == "active" else None
    return rows


@console.route("/agreements")
def agreements() -> Any:
    rows = _agreement_rows()
    status = request.args.get("status", "")
    if status:
        rows = [r for r in rows if r["status"] == status]
    rows.reverse()  # newest first
    return render_template("agreements.html", rows=rows, status=status)


CSV_COLUMNS = (
    "reference", "account_ref", "kind", "frequency", "total", "currency", "status",
    "created_at", "next_due_date", "payments", "schedule",
)  # fmt: skip


@console.route("/agreements.csv")
def agreements_csv() -> Any:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in _agreement_rows():
        schedule = ";".join(f"{s['due_date']}={s['amount']}" for s in row["schedule"])
        writer.writerow(
            [
                row["reference"], row["account_ref"], row["kind"], row["frequency"] or "",
                row["total"], row["currency"], row["status"], row["created_at"],
                row["next_due"] or "", len(row["schedule"]), schedule,
            ]
        )  # fmt: skip
    with _db() as db:
        record_audit(db, actor_name(g.user.username), "console_export_agreements")
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="agreements.csv"'},
    )


# --- trainers' inbox --------------------------------------------------------------------


def _intents() -> list[str]:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text()) or {}
    names = [i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents", [])]
    return sorted(set(names))


@console.route("/inbox")
@requires("trainer")
def inbox() -> Any:
    reviewed = {(e.sender_id, e.event_id): e for e in reviewed_examples()}
    messages = tracker.uncertain_messages(_engine())
    page_count = max(1, math.ceil(len(messages) / PAGE_SIZE))
    page = min(max(1, request.args.get("page", 1, type=int) or 1), page_count)
    return render_template(
        "inbox.html",
        messages=messages[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        total=len(messages),
        page=page,
        pages=page_count,
        reviewed=reviewed,
        intents=_intents(),
        emotions=EMOTIONS,
    )


@console.route("/inbox/label", methods=["POST"])
@requires("trainer")
def inbox_label() -> Any:
    sender_id = request.form.get("sender_id", "")
    event_id = request.form.get("event_id", type=int)
    intent, emotion = request.form.get("intent", ""), request.form.get("emotion", "")
    data = tracker.user_event(_engine(), sender_id, event_id) if event_id else None
    if data is None:
        flash("That message is not in the tracker store.", "error")
        return redirect(url_for("console.inbox"))
    if intent not in _intents():
        flash(f"Unknown intent {intent!r}.", "error")
        return redirect(url_for("console.inbox"))
    predicted = ((data.get("parse_data") or {}).get("intent") or {}).get("name")
    try:
        record_review(
            ReviewedExample(
                text=data.get("text") or "",
                intent=intent,
                emotion=emotion,
                sender_id=sender_id,
                event_id=int(event_id or 0),
                predicted_intent=predicted,
                reviewer=g.user.username,
                reviewed_at=utcnow().isoformat(),
            )
        )
    except InboxError as exc:
        flash(str(exc), "error")
        return redirect(url_for("console.inbox"))
    with _db() as db:
        record_audit(
            db,
            actor_name(g.user.username),
            "console_inbox_label",
            detail={"event_id": event_id, "intent": intent, "emotion": emotion},
        )
    flash(f"Labelled {intent} / {emotion}; `parley inbox export` has it.", "ok")
    return redirect(url_for("console.inbox", page=request.form.get("page", 1)))


# --- dashboard --------------------------------------------------------------------------


@console.route("/dashboard")
def dashboard() -> Any:
    with _db() as db:
        figures = dash.figures(db)
    funnel = dash.bar_chart([(step, figures.funnel[step]) for step in dash.FUNNEL_STEPS])
    outcomes = dash.bar_chart([(k.replace("_", " "), v) for k, v in figures.outcomes.items()])
    weeks_count = dash.bar_chart([(f"week of {w:%b %d}", n) for w, n, _ in figures.weeks])
    weeks_amount = dash.bar_chart([(f"week of {w:%b %d}", float(t)) for w, _, t in figures.weeks])
    return render_template(
        "dashboard.html",
        figures=figures,
        funnel=funnel,
        outcomes=outcomes,
        emotions=dash.stacked_chart(figures.emotions),
        weeks_count=weeks_count,
        weeks_amount=weeks_amount,
    )


# --- simulator --------------------------------------------------------------------------


@console.route("/simulator")
@requires("trainer")
def simulator() -> Any:
    with _db() as db:
        accounts = [
            a for a in AccountRepository(db).all() if not tracker.is_simulated(a.account_ref)
        ]
        refs = [(a.account_ref, a.name) for a in accounts]
    recent = [s for s in tracker.conversation_summaries(_engine()) if s.simulated]
    epoch = datetime.min.replace(tzinfo=timezone.utc)
    recent.sort(key=lambda s: s.last_at or epoch, reverse=True)
    return render_template("simulator.html", accounts=refs, recent=recent[:20])


@console.route("/simulator/start", methods=["POST"])
@requires("trainer")
def simulator_start() -> Any:
    try:
        with _db() as db:
            twin = start_simulation(db, request.form.get("account_ref", ""), g.user.username)
            sender_id = twin.account_ref
        seed_conversation(rasa(), twin)
    except (SimulationError, RasaUnavailableError) as exc:
        flash(str(exc), "error")
        return redirect(url_for("console.simulator"))
    return redirect(url_for("console.simulation", sender_id=sender_id))


@console.route("/simulator/<path:sender_id>")
@requires("trainer")
def simulation(sender_id: str) -> Any:
    if not tracker.is_simulated(sender_id):
        abort(404)
    turns = tracker.transcript(_engine(), sender_id)
    return render_template("simulation.html", sender_id=sender_id, turns=turns)


@console.route("/simulator/<path:sender_id>/send", methods=["POST"])
@requires("trainer")
def simulation_send(sender_id: str) -> Any:
    if not tracker.is_simulated(sender_id):
        abort(404)
    text = request.form.get("text", "").strip()
    if text:
        try:
            rasa().chat(sender_id, text)
        except RasaUnavailableError as exc:
            flash(str(exc), "error")
    return redirect(url_for("console.simulation", sender_id=sender_id))


# --- users ------------------------------------------------------------------------------


@console.route("/users", methods=["GET", "POST"])
@requires("admin")
def users() -> Any:
    if request.method == "POST":
        try:
            with _db() as db:
                UserRepository(db).add(
                    request.form.get("username", "").strip(),
                    request.form.get("password", ""),
                    request.form.get("role", ""),
                    actor=actor_name(g.user.username),
                )
            flash(f"Added {request.form.get('role')} {request.form.get('username')}.", "ok")
        except UserError as exc:
            flash(str(exc), "error")
        return redirect(url_for("console.users"))
    with _db() as db:
        from bot.storage.models import ConsoleUser

        rows = [
            (u.username, u.role, u.active, u.created_at)
            for u in db.execute(sa.select(ConsoleUser).order_by(ConsoleUser.username)).scalars()
        ]
    return render_template("users.html", rows=rows, roles=ROLES)


__all__ = ["console", "ACCOUNT_FLAGS"]
