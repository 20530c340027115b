"""The operator console: a Flask app with server-rendered, autoescaped templates.

Sessions are Flask's signed cookies (itsdangerous; HttpOnly, SameSite=Lax, Secure in
production), every form carries Flask-WTF's CSRF token (bound to the session), and every
route but the login page needs a logged-in user.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask, Response, g, jsonify, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect

from bot.console.rasa_client import RasaClient
from bot.settings import ConfigurationError, get_settings
from bot.storage import get_database
from bot.storage.users import UserRepository

SESSION_LIFETIME = timedelta(hours=8)
# Reachable without a session: the login page itself (it is also the health check).
OPEN_ENDPOINTS = frozenset({"console.login"})


@dataclass(frozen=True)
class ConsoleUser:
    username: str
    role: str


@dataclass(frozen=True)
class ConsoleConfig:
    secret_key: str
    rasa_url: str
    rasa_token: str | None
    rest_token: str | None
    secure_cookies: bool

    @classmethod
    def from_environment(cls) -> ConsoleConfig:
        settings = get_settings()
        secret = os.environ.get("PARLEY_CONSOLE_SECRET", "").strip()
        if len(secret) < 16:
            raise ConfigurationError(
                "PARLEY_CONSOLE_SECRET is not set (or shorter than 16 characters); "
                "`parley serve` generates one under PARLEY_SECRETS_DIR"
            )
        return cls(
            secret_key=secret,
            rasa_url=os.environ.get("PARLEY_RASA_URL", "http://127.0.0.1:5005"),
            rasa_token=settings.rasa_auth_token,
            rest_token=settings.rest_token,
            secure_cookies=settings.is_production,
        )


def create_app(config: ConsoleConfig | None = None) -> Flask:
    config = config or ConsoleConfig.from_environment()
    # No static folder: CSS and JS are inlined, so no route answers without a session.
    app = Flask(__name__, static_folder=None)
    app.config.update(
        SECRET_KEY=config.secret_key,
        SESSION_COOKIE_NAME="parley_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.secure_cookies,
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        WTF_CSRF_SSL_STRICT=False,  # behind the proxy the console sees http
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    app.extensions["parley_rasa"] = RasaClient(
        config.rasa_url, config.rasa_token, config.rest_token
    )
    CSRFProtect(app)

    from bot.console.views import console

    app.register_blueprint(console)

    @app.before_request
    def require_session() -> Any:
        # Scripts run only with this request's nonce: debtor text can never become one.
        g.csp_nonce = secrets.token_urlsafe(16)
        g.user = _current_user()
        if g.user is not None or request.endpoint in OPEN_ENDPOINTS:
            return None
        if request.path.startswith("/api/"):
            return jsonify({"error": "log in first"}), 401
        return redirect(url_for("console.login", next=request.path))

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.setdefault(
            "Content-Security-Policy",
            f"default-src 'self'; script-src 'nonce-{g.get('csp_nonce', '')}'; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; "
            "form-action 'self'; base-uri 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.errorhandler(CSRFError)
    def csrf_refused(error: CSRFError) -> Any:
        return render_template("error.html", title="Form refused", message=error.description), 400

    @app.errorhandler(403)
    def forbidden(_: Any) -> Any:
        message = "Your role does not allow this page."
        return render_template("error.html", title="Not allowed", message=message), 403

    @app.errorhandler(404)
    def not_found(_: Any) -> Any:
        return render_template("error.html", title="Not found", message="Nothing here."), 404

    return app


def _current_user() -> ConsoleUser | None:
    """The session's user, if it still exists and is active (a removed user is logged out)."""
    username = session.get("user")
    if not username:
        return None
    with get_database().session() as db:
        user = UserRepository(db).get(str(username))
        if user is None or not user.active:
            session.clear()
            return None
        return ConsoleUser(user.username, user.role)


def rasa() -> RasaClient:
    from flask import current_app

    client: RasaClient = current_app.extensions["parley_rasa"]
    return client
