"""The code as it was before issue 15's performance fixes, for `profile_turn --baseline`
and the load benchmark's `before` run.

Called through PARLEY_PROFILE_PATCH=bench.legacy:install in the profiled servers only
(bot/runtime/profiling.py): it puts the old functions back so before and after are
measured in one run, on one machine, under the same load. Copied from git (commit
70a8ab4, bot/channels/egress.py); nothing else imports this module.
"""

from __future__ import annotations

import json
from typing import Any


def turn_utterances_full_scan(sender_id: str, message_id: str | None) -> Any:
    """The egress guard's turn reader before the fix: every event of the sender, read
    and JSON-parsed on every turn, in its own session."""
    import sqlalchemy as sa

    from bot.channels import egress
    from bot.storage import DatabaseUnavailableError, get_database

    try:
        with get_database().session() as session:
            rows = session.execute(
                sa.select(egress._EVENTS.c.type_name, egress._EVENTS.c.data)
                .where(egress._EVENTS.c.sender_id == sender_id)
                .order_by(egress._EVENTS.c.id)
            ).all()
    except (DatabaseUnavailableError, sa.exc.ProgrammingError) as exc:
        egress.logger.warning("egress guard could not read the turn: %s", type(exc).__name__)
        return None
    verified = False
    found = False
    utterances = []
    for type_name, raw in rows:
        data: dict[str, Any] = json.loads(raw) if raw else {}
        if type_name in ("session_started", "restart"):
            verified = False
        elif type_name == "slot" and data.get("name") == "verified":
            verified = bool(data.get("value"))
        elif type_name == "user":
            if found:
                break
            found = message_id is not None and data.get("message_id") == message_id
        elif type_name == "bot" and found:
            utterances.append(
                egress.Utterance(
                    text=str(data.get("text") or ""),
                    response=(data.get("metadata") or {}).get("utter_action"),
                    verified=verified,
                )
            )
    return utterances if found else None


def guard_replies_two_sessions(
    sender_id: str, message_id: str | None, replies: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """guard_replies before the fix: the account in one session, the turn in another."""
    from bot.channels import egress
    from bot.privacy import mask_phone, sender_phone
    from bot.storage import AccountRepository, get_database

    phone = sender_phone(sender_id)
    with get_database().session() as session:
        repo = AccountRepository(session)
        account = repo.find_by_phone(phone) if phone else None
        opted_out = account is not None and "opted_out" in repo.active_flags(account)
        terms = egress.debt_terms(account) if account is not None else []
    utterances = turn_utterances_full_scan(sender_id, message_id) or []
    pending = list(utterances)
    allowed: list[dict[str, Any]] = []
    blocked: list[str] = []
    for reply in replies:
        text = str(reply.get("text") or "")
        match = next((u for u in pending if u.text == text), None)
        if match is not None:
            pending = pending[pending.index(match) + 1 :]
        verified = match.verified if match is not None else False
        response = match.response if match is not None else None
        if opted_out and response not in egress.AFTER_OPT_OUT:
            blocked.append(f"after opt-out: {response or 'text'}")
            continue
        if text and not verified and egress.discloses(text, terms):
            blocked.append(f"disclosure before verification: {response or 'text'}")
            if not any(r.get("text") == egress.BLOCKED_REPLACEMENT for r in allowed):
                allowed.append({**reply, "text": egress.BLOCKED_REPLACEMENT})
            continue
        allowed.append(reply)
    if blocked:
        egress.logger.warning(
            "blocked %d message(s) to %s: %s",
            len(blocked),
            mask_phone(sender_id),
            "; ".join(blocked),
        )
        if account is not None:
            egress._record(account, "reply_blocked", {"blocked": blocked}, sender_id)
    return allowed


def validate_action_result_every_time(self: Any, result: dict[str, Any]) -> bool:
    """Rasa 3.6's own RemoteAction._validate_action_result (bot/runtime/rasa_speedups.py
    replaces it): `jsonschema.validate`, which re-checks the schema on every call."""
    from jsonschema import ValidationError, validate
    from rasa.shared.constants import DOCS_BASE_URL

    try:
        validate(result, self.action_response_format_spec())
        return True
    except ValidationError as e:
        e.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise e


def install(role: str) -> None:
    """Swap the old functions in (the Rasa server; the action server has none)."""
    if role != "rasa":
        return
    from rasa.core.actions.action import RemoteAction

    RemoteAction._validate_action_result = validate_action_result_every_time  # type: ignore[method-assign]
    import bot.channels.egress
    import bot.channels.rest
    import bot.channels.twilio

    bot.channels.egress.turn_utterances = turn_utterances_full_scan  # type: ignore[assignment]
    for module in (bot.channels.egress, bot.channels.rest, bot.channels.twilio):
        module.guard_replies = guard_replies_two_sessions  # type: ignore[attr-defined]
