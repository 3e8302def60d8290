"""The `authgate` command line (INTERFACE.md "Command line"). Every command parses its
options, runs one flow, and prints text or, with --json, JSON. An AuthgateError becomes one
line on stderr and exit status 1; usage errors are click's exit 2.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TypeVar

import anyio
import click

from authgate import __version__, config
from authgate.config import Settings
from authgate.core.client_metadata import ClientRegistration
from authgate.core.errors import AuthgateError
from authgate.flows import audit, clients, janitor, keys, resources, revoke, users, views
from authgate.server import open_store
from authgate.store.base import Store
from authgate.web.metrics import MULTIPROCESS_ENV
from authgate.web.observability import log_config

T = TypeVar("T")
ACTOR = "cli"
DEMO_FILE = "demo-credentials.json"


def _now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except AuthgateError as exc:
        raise click.ClickException(str(exc)) from None


def _settings() -> Settings:
    with _errors():
        return config.load()


def run(work: Callable[[Store, Settings], Awaitable[T]]) -> T:
    """Open the configured store (migrating it if needed), run `work`, close the store."""
    settings = _settings()

    async def main() -> T:
        store = open_store(settings)
        try:
            await store.upgrade()
            return await work(store, settings)
        finally:
            await store.close()

    with _errors():
        return anyio.run(main)


def emit(as_json: bool, data: object, text: str) -> None:
    click.echo(json.dumps(data, indent=2) if as_json else text)


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.group()
@click.version_option(__version__, prog_name="authgate")
def main() -> None:
    """authgate: an OAuth 2.0 and OpenID Connect authorization server."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, workers: int) -> None:
    """Serve HTTP (migrations and signing keys are set up first)."""
    import uvicorn

    from authgate.http_protocol import HttpProtocol

    settings = _settings()

    async def prepare(store: Store, settings: Settings) -> None:
        await keys.ensure_keys(store, now=_now())

    run(prepare)
    click.echo(f"authgate {__version__}: issuer {settings.issuer}, serving on http://{host}:{port}")
    with _metrics_dir(workers):
        uvicorn.run(
            "authgate.server:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            loop="uvloop",
            http=HttpProtocol,
            proxy_headers=settings.trust_forwarded_headers,
            server_header=False,
            date_header=True,
            access_log=False,  # authgate.access logs each request (web/observability.py)
            log_config=log_config(settings.log_format, settings.log_level),
            log_level=settings.log_level.lower(),
        )


@contextmanager
def _metrics_dir(workers: int) -> Iterator[None]:
    """Several workers share their metrics through files (prometheus_client multiprocess
    mode) in a directory that lives as long as this server, unless one is configured.
    """
    if workers == 1 or os.environ.get(MULTIPROCESS_ENV):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="authgate-metrics-") as path:
        os.environ[MULTIPROCESS_ENV] = path
        try:
            yield
        finally:
            del os.environ[MULTIPROCESS_ENV]


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply schema migrations (also done at every start)."""

    async def work(store: Store, settings: Settings) -> None:
        return None

    run(work)
    click.echo("database schema is current")


@db.command("purge")
@click.option("--batch", type=click.IntRange(1, 100_000), default=None, help="Rows per batch.")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@json_option
def db_purge(batch: int | None, dry_run: bool, as_json: bool) -> None:
    """Delete expired codes, tokens, sessions … in batches (what the janitor does)."""

    async def work(store: Store, settings: Settings) -> janitor.SweepReport:
        return await janitor.sweep(store, settings, now=_now(), batch=batch, dry_run=dry_run)

    report = run(work)
    data = {
        "dry_run": report.dry_run,
        "skipped": report.skipped,
        "total": report.total,
        "purged": report.counts,
    }
    verb = "would delete" if dry_run else "deleted"
    text = (
        "another process is sweeping this database; nothing done"
        if report.skipped
        else "\n".join(
            [f"{n:>8}  {name}" for name, n in report.counts.items()]
            + [f"{verb} {report.total} rows"]
        )
    )
    emit(as_json, data, text)


@main.command()
@json_option
def demo(as_json: bool) -> None:
    """Create (once) a demo client and user for trying authgate, and print them."""

    saved: dict[str, object] | None = None
    if os.path.exists(DEMO_FILE):
        with open(DEMO_FILE) as f:
            saved = json.load(f)

    async def work(store: Store, settings: Settings) -> dict[str, object]:
        if saved is not None:
            try:
                await clients.get_client(store, str(saved["client_id"]))
                return saved
            except AuthgateError:
                pass  # the database was reset: make new ones
        return await _make_demo(store, settings)

    data = run(work)
    if data is not saved:
        fd = os.open(DEMO_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
    emit(
        as_json,
        data,
        "\n".join(
            [
                "demo client and user (also in ./demo-credentials.json):",
                f"  client_id:     {data['client_id']}",
                f"  client_secret: {data['client_secret']}",
                f"  redirect_uri:  {data['redirect_uri']}",
                f"  username:      {data['username']}",
                f"  password:      {data['password']}",
                'try: curl -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials '
                f"{data['issuer']}/token",
            ]
        ),
    )


async def _make_demo(store: Store, settings: Settings) -> dict[str, object]:
    from authgate.core.tokens import new_token

    redirect_uri = "http://127.0.0.1:8080/callback"
    client, secret = await clients.create_client(
        store,
        settings,
        ClientRegistration(
            name="Demo app",
            redirect_uris=(redirect_uri,),
            grant_types=("authorization_code", "refresh_token", "client_credentials"),
            scope="openid profile email offline_access api:read",
        ),
        now=_now(),
    )
    password = new_token()[:16]
    username = f"demo-{client.client_id[:6].lower()}"
    user = await users.create_user(
        store,
        username=username,
        password=password,
        email="demo@example.test",
        name="Demo User",
        now=_now(),
    )
    data: dict[str, object] = {
        "issuer": settings.issuer,
        "client_id": client.client_id,
        "client_secret": secret,
        "redirect_uri": redirect_uri,
        "username": user.username,
        "password": password,
        "sub": user.sub,
    }
    return data


# ---------------------------------------------------------------- clients


@main.group()
def client() -> None:
    """Register and manage clients."""


def _client_text(view: dict[str, object]) -> str:
    lines = [f"{k}: {v}" for k, v in view.items() if v not in (None, [], "")]
    return "\n".join(lines)


_client_options = [
    click.option("--redirect-uri", "redirect_uris", multiple=True, help="Repeatable."),
    click.option("--post-logout-redirect-uri", "post_logout_redirect_uris", multiple=True),
    click.option("--grant-type", "grant_types", multiple=True, help="Repeatable."),
    click.option("--scope", default=None, help='Allowed scopes, e.g. "openid profile".'),
    click.option("--auth-method", default=None, help="Token endpoint auth method."),
    click.option("--authorization-details-type", "authorization_details_types", multiple=True),
    click.option("--jwks-uri", default=None, help="For private_key_jwt."),
    click.option("--jwks", default=None, help="A JWK Set (JSON) for private_key_jwt."),
    click.option("--id-token-alg", "id_token_signed_response_alg", default=None),
    click.option("--access-token-format", default=None, type=click.Choice(["opaque", "jwt"])),
    click.option("--application-type", default=None, type=click.Choice(["web", "native"])),
    click.option("--logo-uri", default=None),
    click.option("--policy-uri", default=None),
    click.option("--tos-uri", default=None),
    click.option("--client-uri", default=None),
]


def _with_client_options(f: Callable[..., None]) -> Callable[..., None]:
    for option in reversed(_client_options):
        f = option(f)
    return f


@client.command("create")
@click.option("--name", required=True)
@_with_client_options
@click.option("--public", is_flag=True, help="A public client (auth method none).")
@click.option("--can-introspect", is_flag=True, help="May introspect any token.")
@click.option("--pkce-optional", is_flag=True, help="Confidential clients only.")
@click.option("--no-refresh-rotation", is_flag=True, help="Confidential clients only.")
@json_option
def client_create(
    name: str,
    public: bool,
    can_introspect: bool,
    pkce_optional: bool,
    no_refresh_rotation: bool,
    as_json: bool,
    **options: object,
) -> None:
    """Register a client; its secret is printed once."""
    reg = ClientRegistration(
        name=name,
        public=public,
        can_introspect=can_introspect,
        require_pkce=not pkce_optional,
        rotate_refresh_tokens=not no_refresh_rotation,
        **{k: v for k, v in options.items() if v not in (None, ())},  # type: ignore[arg-type]
    )

    async def work(store: Store, settings: Settings) -> dict[str, object]:
        created, secret = await clients.create_client(store, settings, reg, now=_now())
        return views.client_view(created, secret)

    view = run(work)
    emit(as_json, view, _client_text(view))


@client.command("list")
@json_option
def client_list(as_json: bool) -> None:
    """List clients."""

    async def work(store: Store, settings: Settings) -> list[dict[str, object]]:
        return [views.client_view(c) for c in await clients.list_clients(store)]

    items = run(work)
    text = "\n".join(
        f"{c['client_id']}  {c['client_name']}{'  (retired)' if c['retired_at'] else ''}"
        for c in items
    )
    emit(as_json, items, text or "no clients")


@client.command("show")
@click.argument("client_id")
@json_option
def client_show(client_id: str, as_json: bool) -> None:
    """Show one client."""

    async def work(store: Store, settings: Settings) -> dict[str, object]:
        return views.client_view(await clients.get_client(store, client_id))

    view = run(work)
    emit(as_json, view, _client_text(view))


@client.command("update")
@click.argument("client_id")
@click.option("--name", default=None)
@_with_client_options
@click.option("--can-introspect/--no-introspect", default=None)
@click.option("--pkce-optional/--pkce-required", default=None)
@click.option("--new-secret", is_flag=True, help="Issue a new client secret.")
@json_option
def client_update(
    client_id: str,
    name: str | None,
    can_introspect: bool | None,
    pkce_optional: bool | None,
    new_secret: bool,
    as_json: bool,
    **options: object,
) -> None:
    """Change a client's registration (given options replace stored values)."""
    changes = {k: v for k, v in options.items() if v not in (None, ())}
    if name is not None:
        changes["name"] = name
    if can_introspect is not None:
        changes["can_introspect"] = can_introspect
    if pkce_optional is not None:
        changes["require_pkce"] = not pkce_optional

    async def work(store: Store, settings: Settings) -> dict[str, object]:
        updated, secret = await clients.update_client(
            store, settings, client_id, changes, new_secret=new_secret, now=_now()
        )
        return views.client_view(updated, secret)

    view = run(work)
    emit(as_json, view, _client_text(view))


@client.command("delete")
@click.argument("client_id")
def client_delete(client_id: str) -> None:
    """Delete a client and every grant and token it holds."""

    async def work(store: Store, settings: Settings) -> None:
        await clients.delete_client(store, client_id, actor=ACTOR, now=_now())

    run(work)
    click.echo(f"deleted client {client_id}")


def _set_retired(client_id: str, retired: bool, reason: str | None, as_json: bool) -> None:
    async def work(store: Store, settings: Settings) -> dict[str, object]:
        updated = await clients.set_retired(
            store, client_id, retired=retired, actor=ACTOR, reason=reason, now=_now()
        )
        return views.client_view(updated)

    view = run(work)
    verb = "retired" if retired else "restored"
    emit(as_json, view, f"{verb} client {client_id}")


@client.command("revoke")
@click.argument("client_id")
@click.option("--reason", default=None)
@json_option
def client_revoke(client_id: str, reason: str | None, as_json: bool) -> None:
    """Retire a client: its tokens stop working and nothing new is issued to it."""
    _set_retired(client_id, True, reason, as_json)


@client.command("approve")
@click.argument("client_id")
@click.option("--reason", default=None)
@json_option
def client_approve(client_id: str, reason: str | None, as_json: bool) -> None:
    """Restore a retired client."""
    _set_retired(client_id, False, reason, as_json)


# ---------------------------------------------------------------- users


@main.group()
def user() -> None:
    """Create and manage end users."""


def _user_text(view: dict[str, object]) -> str:
    return "\n".join(f"{k}: {v}" for k, v in view.items() if v is not None)


@user.command("create")
@click.option("--username", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--email", default=None)
@click.option("--name", default=None)
@click.option("--email-verified", is_flag=True)
@json_option
def user_create(
    username: str,
    password: str,
    email: str | None,
    name: str | None,
    email_verified: bool,
    as_json: bool,
) -> None:
    """Create a user; prints its `sub`."""

    async def work(store: Store, settings: Settings) -> dict[str, object]:
        created = await users.create_user(
            store,
            username=username,
            password=password,
            email=email,
            name=name,
            email_verified=email_verified,
            now=_now(),
        )
        return views.user_view(created)

    view = run(work)
    emit(as_json, view, _user_text(view))


@user.command("list")
@json_option
def user_list(as_json: bool) -> None:
    """List users."""

    async def work(store: Store, settings: Settings) -> list[dict[str, object]]:
        return [views.user_view(u) for u in await users.list_users(store)]

    items = run(work)
    text = "\n".join(
        f"{u['sub']}  {u['username']}{'  (disabled)' if u['disabled_at'] else ''}" for u in items
    )
    emit(as_json, items, text or "no users")


@user.command("show")
@click.argument("who")
@json_option
def user_show(who: str, as_json: bool) -> None:
    """Show a user by sub or username."""

    async def work(store: Store, settings: Settings) -> dict[str, object]:
        return views.user_view(await users.get_user(store, who))

    view = run(work)
    emit(as_json, view, _user_text(view))


@user.command("set-password")
@click.argument("who")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def user_set_password(who: str, password: str) -> None:
    """Set a user's password."""

    async def work(store: Store, settings: Settings) -> None:
        await users.set_password(store, who, password, now=_now())

    run(work)
    click.echo("password changed")


def _set_disabled(who: str, disabled: bool, as_json: bool) -> None:
    async def work(store: Store, settings: Settings) -> dict[str, object]:
        return views.user_view(await users.set_disabled(store, who, disabled=disabled, now=_now()))

    view = run(work)
    emit(as_json, view, f"{'disabled' if disabled else 'enabled'} user {view['username']}")


@user.command("disable")
@click.argument("who")
@json_option
def user_disable(who: str, as_json: bool) -> None:
    """Disable a user: no sign-in, and their tokens stop working."""
    _set_disabled(who, True, as_json)


@user.command("enable")
@click.argument("who")
@json_option
def user_enable(who: str, as_json: bool) -> None:
    """Enable a disabled user."""
    _set_disabled(who, False, as_json)


# ---------------------------------------------------------------- resources, keys, audit


@main.group()
def resource() -> None:
    """Resource servers (RFC 8707 `resource` values)."""


@resource.command("create")
@click.option("--uri", required=True)
@click.option("--format", "token_format", default="jwt", type=click.Choice(["jwt", "opaque"]))
@click.option("--alg", default="RS256", type=click.Choice(["ES256", "RS256"]))
@click.option("--ttl", default=None, type=click.IntRange(min=1))
@json_option
def resource_create(uri: str, token_format: str, alg: str, ttl: int | None, as_json: bool) -> None:
    """Register a resource server; tokens requested for it carry it as `aud`."""

    async def work(store: Store, settings: Settings) -> dict[str, object]:
        created = await resources.create_resource(
            store, uri=uri, token_format=token_format, alg=alg, ttl=ttl, now=_now()
        )
        return views.resource_view(created)

    view = run(work)
    emit(as_json, view, f"registered resource {uri} ({token_format}, {alg})")


@resource.command("list")
@json_option
def resource_list(as_json: bool) -> None:
    """List resource servers."""

    async def work(store: Store, settings: Settings) -> list[dict[str, object]]:
        return [views.resource_view(r) for r in await resources.list_resources(store)]

    items = run(work)
    text = "\n".join(f"{r['uri']}  {r['format']} {r['alg']} ttl={r['ttl']}" for r in items)
    emit(as_json, items, text or "no resources")


@main.group("keys")
def keys_group() -> None:
    """Signing keys."""


@keys_group.command("rotate")
@json_option
def keys_rotate(as_json: bool) -> None:
    """New signing keys; the old ones stay published until their tokens expire."""

    async def work(store: Store, settings: Settings) -> list[dict[str, object]]:
        return [views.key_view(k) for k in await keys.rotate_keys(store, settings, now=_now())]

    items = run(work)
    text = "\n".join(
        f"new {k['alg']} key {k['kid']}, signing from {k['active_from']}" for k in items
    )
    emit(as_json, items, text)


@keys_group.command("list")
@json_option
def keys_list(as_json: bool) -> None:
    """List signing keys."""

    async def work(store: Store, settings: Settings) -> list[dict[str, object]]:
        return [views.key_view(k) for k in await keys.list_keys(store)]

    items = run(work)
    text = "\n".join(
        f"{k['kid']}  {k['alg']}  active_from={k['active_from']} retired_at={k['retired_at']}"
        for k in items
    )
    emit(as_json, items, text or "no keys")


@main.group("audit")
def audit_group() -> None:
    """The operator audit log."""


@audit_group.command("list")
@click.option("--limit", default=100, type=click.IntRange(1, 10_000))
@json_option
def audit_list(limit: int, as_json: bool) -> None:
    """Show recent operator actions, newest first."""

    async def work(store: Store, settings: Settings) -> list[dict[str, object]]:
        return [views.audit_view(e) for e in await audit.list_entries(store, limit=limit)]

    items = run(work)
    text = "\n".join(
        f"{e['at']}  {e['actor']}  {e['action']} {e['target_type']}={e['target']} "
        f"count={e['count']}{'  reason=' + str(e['reason']) if e['reason'] else ''}"
        for e in items
    )
    emit(as_json, items, text or "no entries")


# ---------------------------------------------------------------- tokens (issue 4)


@main.group("token")
def token_group() -> None:
    """Revoke and re-approve tokens, one at a time or by client or user."""


def _token_value(token: str) -> str:
    """TOKEN, or `-` to read it from standard input (keeps it out of shell history)."""
    value = token
    if token == "-":
        value = sys.stdin.readline().strip()
    if not value:
        raise click.UsageError("the token is empty")
    return value


def _token_action(
    token: str,
    *,
    approve: bool,
    token_type: str | None,
    cascade: bool,
    reason: str | None,
    as_json: bool,
) -> None:
    value = _token_value(token)

    async def work(store: Store, settings: Settings) -> dict[str, object]:
        result = await revoke.operator_token_action(
            store,
            value,
            approve=approve,
            token_type=token_type,
            cascade=cascade,
            actor=ACTOR,
            reason=reason,
            now=_now(),
        )
        return result.view()

    view = run(work)
    emit(as_json, view, f"{view['type']}: {view['message']}")


_type_option = click.option(
    "--type",
    "token_type",
    type=click.Choice(["access", "refresh"]),
    default=None,
    help="Where to look first (a wrong type is not an error).",
)
_cascade_option = click.option(
    "--no-cascade", is_flag=True, help="Only the named token, not its grant's other tokens."
)
_reason_option = click.option("--reason", default=None, help="Recorded in the audit log.")


@token_group.command("revoke")
@click.argument("token", required=False)
@_type_option
@_cascade_option
@click.option("--client-id", default=None, help="Every token of this client.")
@click.option("--user", default=None, help="Every token of this user (sub or username).")
@click.option("--before", default=None, help="Only tokens issued before this ISO 8601 time.")
@click.option("--dry-run", is_flag=True, help="Print what would change; change nothing.")
@_reason_option
@json_option
def token_revoke(
    token: str | None,
    token_type: str | None,
    no_cascade: bool,
    client_id: str | None,
    user: str | None,
    before: str | None,
    dry_run: bool,
    reason: str | None,
    as_json: bool,
) -> None:
    """Revoke TOKEN (and, by default, the rest of its grant), or every token of a client or
    user. TOKEN `-` is read from standard input.
    """
    bulk = client_id is not None or user is not None
    if token is not None and (bulk or before is not None or dry_run):
        raise click.UsageError("give either TOKEN or --client-id/--user, not both")
    if token is not None:
        _token_action(
            token,
            approve=False,
            token_type=token_type,
            cascade=not no_cascade,
            reason=reason,
            as_json=as_json,
        )
        return
    if not bulk:
        raise click.UsageError("give a TOKEN, --client-id C or --user SUB")
    if token_type is not None or no_cascade:
        raise click.UsageError("--type and --no-cascade apply to a single TOKEN")

    async def work(store: Store, settings: Settings) -> dict[str, object]:
        result = await revoke.operator_bulk_revoke(
            store,
            client_id=client_id,
            user=user,
            before=before,
            dry_run=dry_run,
            actor=ACTOR,
            reason=reason,
            now=_now(),
        )
        return result.view()

    view = run(work)
    emit(as_json, view, str(view["message"]))


@token_group.command("approve")
@click.argument("token")
@_type_option
@_cascade_option
@_reason_option
@json_option
def token_approve(
    token: str, token_type: str | None, no_cascade: bool, reason: str | None, as_json: bool
) -> None:
    """Undo an operator revocation of TOKEN (and, by default, of the rest of its grant).
    Expired tokens, and tokens revoked by replay detection, their client or the user, stay
    revoked. TOKEN `-` is read from standard input.
    """
    _token_action(
        token,
        approve=True,
        token_type=token_type,
        cascade=not no_cascade,
        reason=reason,
        as_json=as_json,
    )


@main.command("device-login")
@click.option("--issuer", required=True, help="The authorization server's issuer URL.")
@click.option("--client-id", required=True, help="A client allowed the device_code grant.")
@click.option("--scope", default=None, help='Scopes to ask for, e.g. "openid offline_access".')
@click.option("--client-secret", default=None, help="The secret of a confidential client.")
@click.option("--qr/--no-qr", default=True, show_default=True, help="Show a QR code.")
def device_login(
    issuer: str, client_id: str, scope: str | None, client_secret: str | None, qr: bool
) -> None:
    """Sign in as a device would (RFC 8628) against any server with a device authorization
    endpoint: show the code, the URL and a QR code, wait for approval, print the tokens.
    """
    import httpx2

    from authgate.device_client import DeviceClient, DeviceLoginError, show_code

    with httpx2.Client(timeout=30) as http:
        device_client = DeviceClient(http, client_id, client_secret)
        try:
            endpoints = device_client.discover(issuer)
            device = device_client.authorize(endpoints, scope)
            show_code(device, sys.stderr, qr=qr)
            tokens = device_client.poll(endpoints, device)
        except DeviceLoginError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo("Approved.", err=True)
    click.echo(json.dumps(tokens, indent=2))
