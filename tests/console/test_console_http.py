"""The console over HTTP (Flask's test client): sessions, roles, CSRF, lock-out, audit,
exports and the dashboard's figures."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
import yaml
from flask import Flask
from flask.testing import FlaskClient

from bot.cli import main as parley
from bot.console.auth import MAX_FAILURES
from bot.storage import AccountRepository, AgreementRepository, get_database
from bot.storage.models import (
    Account,
    AccountEvent,
    AuditEntry,
    ConsoleUser,
    IdentityAttempt,
    OutboxMessage,
)
from bot.storage.repositories import ScheduledPayment
from bot.storage.types import utcnow
from tests.console.conftest import (
    PASSWORD,
    add_account,
    add_events,
    login,
    post_form,
    user_message,
)

SENDER = "+12025550101"


def audit(action_prefix: str) -> list[AuditEntry]:
    with get_database().session() as session:
        return list(
            session.execute(
                sa.select(AuditEntry).where(AuditEntry.action.like(action_prefix + "%"))
            ).scalars()
        )


# --- sessions, roles, CSRF ----------------------------------------------------------------


def _sample_path(rule: str) -> str:
    return rule.replace("<path:sender_id>", SENDER.replace("+", "%2B")).replace("<sender_id>", "x")


def test_no_route_answers_without_a_session(app: Flask, client: FlaskClient) -> None:
    add_account("ACC-1", SENDER, flags=["handoff"])
    add_events(SENDER, [user_message("hi", "greet")])
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "console.login":
            continue
        path = _sample_path(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method)
            checked += 1
            if path.startswith("/api/"):
                assert response.status_code == 401, (method, path)
            elif method == "GET":
                assert response.status_code == 302, (method, path)
                assert response.headers["Location"].startswith("/login"), (method, path)
            else:
                # A POST without a session is refused before it does anything: no
                # session means no CSRF token either.
                assert response.status_code in (302, 400), (method, path)
    assert checked >= 20
    with get_database().session() as session:
        assert session.execute(sa.select(sa.func.count(AccountEvent.id))).scalar_one() == 0


def test_login_sets_a_signed_httponly_samesite_cookie(client: FlaskClient) -> None:
    response = login(client, "olga")
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/conversations").status_code == 200


def test_production_cookies_are_secure(console_env: str) -> None:
    from bot.console.app import ConsoleConfig, create_app

    app = create_app(ConsoleConfig("k" * 32, "http://127.0.0.1:9", None, None, True))
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_a_form_without_its_csrf_token_is_refused(client: FlaskClient) -> None:
    add_account("ACC-1", SENDER, flags=["handoff"])
    add_events(SENDER, [user_message("hi", "greet")])
    # The login form itself
    refused = client.post("/login", data={"username": "olga", "password": PASSWORD})
    assert refused.status_code == 400
    assert "CSRF" in refused.get_data(as_text=True)
    login(client, "olga")
    response = client.post(f"/conversations/{SENDER}/note", data={"note": "no token"})
    assert response.status_code == 400
    forged = client.post(
        f"/conversations/{SENDER}/note", data={"note": "forged", "csrf_token": "not-the-token"}
    )
    assert forged.status_code == 400
    with get_database().session() as session:
        notes = session.execute(
            sa.select(AccountEvent).where(AccountEvent.kind == "operator_note")
        ).all()
    assert notes == []


def test_a_trainer_or_operator_cannot_add_users(client: FlaskClient) -> None:
    for name in ("tess", "olga"):
        login(client, name)
        assert client.get("/users").status_code == 403
        token_page = client.get("/conversations").get_data(as_text=True)
        from tests.console.conftest import csrf_of

        response = client.post(
            "/users",
            data={
                "username": f"sneaky-{name}",
                "password": "long enough password",
                "role": "admin",
                "csrf_token": csrf_of(token_page),
            },
        )
        assert response.status_code == 403
    with get_database().session() as session:
        names = set(session.execute(sa.select(ConsoleUser.username)).scalars())
    assert not any(n.startswith("sneaky") for n in names)


def test_an_admin_adds_a_user_and_it_is_audited(client: FlaskClient) -> None:
    login(client, "ada")
    response = post_form(
        client,
        "/users",
        "/users",
        {"username": "newop", "password": "a long new password", "role": "operator"},
    )
    assert response.status_code == 302
    assert login(client, "newop", "a long new password").status_code == 302
    assert [e.actor for e in audit("user_added") if e.detail["username"] == "newop"] == [
        "console:ada"
    ]


def test_roles_narrow_the_pages(client: FlaskClient) -> None:
    login(client, "olga")
    assert client.get("/inbox").status_code == 403
    assert client.get("/simulator").status_code == 403
    login(client, "tess")
    assert client.get("/inbox").status_code == 200
    add_account("ACC-1", SENDER, flags=["handoff"])
    add_events(SENDER, [user_message("hi", "greet")])
    response = post_form(
        client, f"/conversations/{SENDER}", f"/conversations/{SENDER}/note", {"note": "x"}
    )
    assert response.status_code == 403


# --- login lock-out -----------------------------------------------------------------------


def test_the_lockout_engages_after_repeated_failures(client: FlaskClient) -> None:
    for attempt in range(MAX_FAILURES):
        response = login(client, "olga", f"wrong password {attempt}")
        assert response.status_code == 401
        assert "Wrong user name or password" in response.get_data(as_text=True)
    locked = login(client, "olga", PASSWORD)
    assert locked.status_code == 401
    assert "locked until" in locked.get_data(as_text=True)
    assert client.get("/conversations").status_code == 302  # still no session
    assert len(audit("console_login_failed")) == MAX_FAILURES
    assert len(audit("console_login_locked")) == 1
    # Another user is not affected.
    assert login(client, "tess").status_code == 302


def test_an_unknown_name_and_a_wrong_password_read_the_same(client: FlaskClient) -> None:
    a = login(client, "nobody", "whatever password").get_data(as_text=True)
    b = login(client, "olga", "whatever password").get_data(as_text=True)
    assert "Wrong user name or password." in a and "Wrong user name or password." in b


def test_logout_ends_the_session_and_is_audited(client: FlaskClient) -> None:
    login(client, "olga")
    response = post_form(client, "/conversations", "/logout", {})
    assert response.status_code == 302
    assert client.get("/conversations").status_code == 302
    assert [e.actor for e in audit("console_logout")] == ["console:olga"]


def test_a_login_never_redirects_off_site(client: FlaskClient) -> None:
    from tests.console.conftest import csrf_of

    client.delete_cookie("parley_console")
    token = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={
            "username": "olga",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.test/x",
        },
    )
    assert response.headers["Location"] == "/conversations"


# --- conversations and transcripts --------------------------------------------------------


def test_the_transcript_shows_intent_and_emotion_and_escapes_debtor_text(
    client: FlaskClient,
) -> None:
    add_account("ACC-1", SENDER)
    add_events(
        SENDER,
        [
            user_message(
                "<script>alert('x')</script> my card 4111 1111 1111 1111",
                "offer_payment",
                0.87,
                "anxious",
                entities=[{"entity": "amount", "value": "50.00"}],
            ),
            {"event": "action", "name": "action_respond"},
            {"event": "bot", "text": "Thanks, noted."},
        ],
    )
    login(client, "olga")
    html = client.get(f"/conversations/{SENDER}").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "<script>alert" not in html
    assert "4111" not in html and "[card number removed]" in html
    assert "offer_payment" in html and "0.87" in html and "anxious" in html
    assert "amount=50.00" in html and "action_respond" in html and "Thanks, noted." in html


def test_filters_search_and_simulated_marking(client: FlaskClient) -> None:
    add_account("ACC-1", SENDER, flags=["handoff"])
    add_account("ACC-2", "+12025550102", flags=["disputed"])
    add_events(SENDER, [user_message("help", "request_human", emotion="anxious")])
    add_events("+12025550102", [user_message("not mine", "dispute_debt", emotion="angry")])
    add_events("sim:ACC-1:1", [user_message("test", "greet")])
    login(client, "olga")

    def listed(query: str) -> str:
        return client.get("/conversations" + query).get_data(as_text=True)

    assert SENDER in listed("?flag=handoff") and "+12025550102" not in listed("?flag=handoff")
    assert "+12025550102" in listed("?flag=disputed") and SENDER not in listed("?flag=disputed")
    assert "+12025550102" in listed("?emotion=angry") and SENDER not in listed("?emotion=angry")
    assert SENDER in listed("?q=acc-1") and "+12025550102" not in listed("?q=acc-1")
    assert "sim:ACC-1:1" in listed("") and "simulated" in listed("")
    assert "sim:ACC-1:1" not in listed("?sim=0")
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    assert "No conversation matches" in listed(f"?from={tomorrow}")


# --- operator actions leave audit entries ---------------------------------------------------


def test_each_operator_action_is_audited(client: FlaskClient) -> None:
    add_account("ACC-1", SENDER, flags=["handoff", "disputed"])
    add_events(SENDER, [user_message("this is not my debt", "dispute_debt")])
    with get_database().session() as session:
        account = AccountRepository(session).require("ACC-1")
        account.identity_locked_at = utcnow()
    login(client, "olga")
    page = f"/conversations/{SENDER}"
    assert post_form(client, page, page + "/note", {"note": "called back"}).status_code == 302
    post_form(
        client, page, page + "/resolve", {"resolution": "dispute_rejected", "note": "docs ok"}
    )
    post_form(
        client, page, page + "/resolve", {"resolution": "unlock_identity", "note": "ID checked"}
    )
    actions = {e.action: e.actor for e in audit("")}
    assert actions["console_note"] == "console:olga"
    assert actions["console_resolve:dispute_rejected"] == "console:olga"
    assert actions["flag_cleared:disputed"] == "console:olga"
    # The unlock is the CLI's code: IdentityRepository.unlock, audited the same way.
    assert actions["identity_unlocked"] == "console:olga"
    with get_database().session() as session:
        account = AccountRepository(session).require("ACC-1")
        assert account.identity_locked_at is None
        assert "disputed" not in AccountRepository(session).active_flags(account)
    html = client.get(page).get_data(as_text=True)
    assert "called back" in html


def test_the_handoff_queue_is_oldest_first(client: FlaskClient) -> None:
    add_account("ACC-1", SENDER, flags=["handoff"])
    add_account("ACC-2", "+12025550102", flags=["handoff"])
    login(client, "olga")
    html = client.get("/handoffs").get_data(as_text=True)
    assert html.index("ACC-1") < html.index("ACC-2")
    assert json.loads(client.get("/api/counts").get_data()) == {"waiting": 2, "taken": 0}


# --- exports ------------------------------------------------------------------------------


def _agreement(ref: str, phone: str, key: str, months: int) -> None:
    add_account(ref, phone)
    with get_database().session() as session:
        account = AccountRepository(session).require(ref)
        schedule = [
            ScheduledPayment(date(2027, 1 + i, 5), Decimal("100.00")) for i in range(months)
        ]
        AgreementRepository(session).create(
            account,
            kind="installment",
            total=Decimal(100 * months),
            currency="USD",
            schedule=schedule,
            idempotency_key=key,
            frequency="monthly",
        )


def test_the_csv_export_matches_parley_agreements_list(
    client: FlaskClient, capsys: pytest.CaptureFixture[str]
) -> None:
    _agreement("ACC-1", SENDER, "k1", 3)
    _agreement("ACC-2", "+12025550102", "k2", 2)
    login(client, "olga")
    response = client.get("/agreements.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    capsys.readouterr()
    assert parley(["agreements", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(rows) == len(listed) == 2
    for row, item in zip(rows, listed, strict=True):
        for key in (
            "reference",
            "account_ref",
            "kind",
            "total",
            "currency",
            "status",
            "created_at",
        ):
            assert row[key] == str(item[key]), key
        assert row["frequency"] == (item["frequency"] or "")
        assert int(row["payments"]) == len(item["schedule"])
        assert row["schedule"] == ";".join(
            f"{s['due_date']}={s['amount']}" for s in item["schedule"]
        )
        assert row["next_due_date"] == item["schedule"][0]["due_date"]
    assert audit("console_export_agreements")


def test_an_inbox_relabel_appears_in_parley_inbox_export(
    client: FlaskClient, capsys: pytest.CaptureFixture[str]
) -> None:
    add_account("ACC-1", SENDER)
    add_events(
        SENDER,
        [
            user_message("can i do half now", "ask_settlement", 0.41, "neutral"),
            user_message("yes", "affirm", 0.99),
            user_message("card 4111 1111 1111 1111 pls", "nlu_fallback", 0.3),
        ],
    )
    login(client, "tess")
    html = client.get("/inbox").get_data(as_text=True)
    assert "can i do half now" in html and "card" in html
    assert ">yes<" not in html  # confident messages are not in the inbox
    with get_database().session() as session:
        event_id = session.execute(
            sa.text("SELECT id FROM events WHERE data LIKE '%half now%'")
        ).scalar_one()
        card_id = session.execute(
            sa.text("SELECT id FROM events WHERE data LIKE '%card%'")
        ).scalar_one()
    for eid, intent, emotion in (
        (event_id, "offer_payment", "neutral"),
        (event_id, "ask_installments", "anxious"),  # a relabel replaces the first label
        (card_id, "ask_payment_methods", "neutral"),
    ):
        response = post_form(
            client,
            "/inbox",
            "/inbox/label",
            {"sender_id": SENDER, "event_id": eid, "intent": intent, "emotion": emotion},
        )
        assert response.status_code == 302
    capsys.readouterr()
    assert parley(["inbox", "export"]) == 0
    exported = capsys.readouterr().out
    data = yaml.safe_load(exported)
    blocks = {(b["intent"], b["metadata"]["emotion"]): b["examples"] for b in data["nlu"]}
    assert blocks[("ask_installments", "anxious")] == "- can i do half now\n"
    assert ("offer_payment", "neutral") not in blocks
    assert "4111" not in exported and "[card number removed]" in exported
    assert data["version"] == "3.1"
    assert len(audit("console_inbox_label")) == 3


# --- dashboard ----------------------------------------------------------------------------


def test_the_dashboard_counts_match_the_database(client: FlaskClient) -> None:
    phones = [f"+1202555{110 + n:04d}" for n in range(5)]
    for n, number in enumerate(phones):
        add_account(f"ACC-{n}", number)
    with get_database().session() as session:
        accounts = {a.account_ref: a for a in session.execute(sa.select(Account)).scalars()}
        session.add(
            OutboxMessage(
                account_id=accounts["ACC-4"].id, kind="outreach", channel="sms",
                to_address=phones[4], body="hi", status="sent", idempotency_key="o4",
                sent_at=utcnow(),
            )
        )  # fmt: skip
        for ref in ("ACC-0", "ACC-1"):
            session.add(IdentityAttempt(account_id=accounts[ref].id, matched=True))
        session.add(IdentityAttempt(account_id=accounts["ACC-2"].id, matched=False))
    for n in range(4):
        add_events(phones[n], [user_message("hi", "greet", emotion="anxious" if n else "angry")])
    add_events(phones[0], [{"event": "slot", "name": "offers", "value": [{"kind": "full"}]}])
    add_events(phones[1], [{"event": "slot", "name": "offers", "value": None}])
    with get_database().session() as session:
        account = AccountRepository(session).require("ACC-0")
        AgreementRepository(session).create(
            account, kind="full", total=Decimal("1200.00"), currency="USD",
            schedule=[ScheduledPayment(date(2027, 1, 5), Decimal("1200.00"))],
            idempotency_key="a0",
        )  # fmt: skip
    # A simulated conversation and its twin account are left out.
    add_account("sim:ACC-0:1", "simulated")
    add_events("sim:ACC-0:1", [user_message("hi", "greet")])
    login(client, "olga")
    html = client.get("/dashboard").get_data(as_text=True)

    def shown(step: str) -> int:
        marker = f'data-step="{step}">'
        return int(html.split(marker, 1)[1].split("<", 1)[0])

    with get_database().session() as session:
        real = {
            a.id
            for a in session.execute(sa.select(Account)).scalars()
            if not a.account_ref.startswith("sim:")
        }
        verified = set(
            session.execute(
                sa.select(IdentityAttempt.account_id).where(IdentityAttempt.matched.is_(True))
            ).scalars()
        )
        agreed = set(
            session.execute(sa.text("SELECT DISTINCT account_id FROM agreements")).scalars()
        )
        wrote = set(
            session.execute(
                sa.text(
                    "SELECT DISTINCT a.id FROM accounts a JOIN events e ON e.sender_id = a.phone "
                    "WHERE e.type_name = 'user'"
                )
            ).scalars()
        )
        sent = set(
            session.execute(
                sa.text("SELECT DISTINCT account_id FROM outbox WHERE status = 'sent'")
            ).scalars()
        )
    assert shown("contacted") == len(real & (wrote | sent)) == 5
    assert shown("replied") == len(real & wrote) == 4
    assert shown("verified") == len(real & verified) == 2
    assert shown("options shown") == 1
    assert shown("agreed") == len(real & agreed) == 1
    assert 'id="emotion-chart"' in html and "turn 1: 3 anxious" in html


def test_scripts_run_only_with_the_pages_nonce(client: FlaskClient) -> None:
    login(client, "olga")
    response = client.get("/conversations")
    policy = response.headers["Content-Security-Policy"]
    nonce = policy.split("'nonce-", 1)[1].split("'", 1)[0]
    assert len(nonce) >= 16 and "unsafe-inline" not in policy.split("style-src")[0]
    html = response.get_data(as_text=True)
    assert html.count("<script") == html.count(f'<script nonce="{nonce}">') == 1
    assert nonce not in client.get("/conversations").headers["Content-Security-Policy"]


def test_the_transcript_says_when_the_bot_is_paused(client: FlaskClient) -> None:
    add_account("ACC-1", SENDER, flags=["handoff"])
    add_events(SENDER, [user_message("a person please", "request_human"), {"event": "pause"}])
    login(client, "olga")
    assert 'id="paused-badge"' in client.get(f"/conversations/{SENDER}").get_data(as_text=True)
    add_events(SENDER, [{"event": "resume"}])
    assert 'id="paused-badge"' not in client.get(f"/conversations/{SENDER}").get_data(as_text=True)
