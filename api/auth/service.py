"""Staff accounts, bearer tokens and API keys: the rules of signing in.

- Passwords are hashed with argon2 (pwdlib), at least 10 characters, never logged or returned.
  A sign-in with an unknown username costs the same time as a wrong password.
- Tokens and API keys are long random secrets with a recognisable prefix (`rkt_`, `rkk_`); only
  their SHA-256 is stored, the secret is shown once.
- Tokens expire after REKAM_TOKEN_TTL_MINUTES, are revoked by signing out, and stop working when
  the account is deactivated or its password changed (all its tokens are revoked then).
- Failed sign-ins are counted per (username, client address) (REKAM_LOGIN_FAILURE_LIMIT) and per
  client address (REKAM_LOGIN_FAILURE_LIMIT_PER_CLIENT); past either limit, sign-ins from that
  address (for that username) are refused (429 with Retry-After) until the window ends. Failures
  from one address never lock the account for another: its owner signs in from elsewhere. A
  successful sign-in clears its (username, address) count. Staff see their account's recent
  failed sign-ins in `GET /auth/me`.
- Every sign-in, failed or refused sign-in, sign-out and account or key change is audited; the
  entries of failed and refused sign-ins are kept although the response is an error.
- A supervisor is scoped to an area, an operator to a service point; other roles have no scope.
  An account may be linked to one operator (petugas, `operator_id`), one account per operator:
  an operator account linked so needs no service point (a mobile kit's crew has no counter).
- An admin cannot deactivate their own account (someone must be left to sign in).
- API keys have an owner (an active account; the creator by default) and an expiry
  (REKAM_API_KEY_TTL_DAYS, default a year, or `expires_in_days`). Deactivating the owner revokes
  their keys, unless they are handed to another account first (`transfer_keys_to`); revoked,
  expired keys, keys of an inactive owner and keys of an owner who is no longer an admin nor
  of the key's role get 401. `GET /api-keys?expiring_within=30d` lists
  the keys about to expire. `last_used_at` is written at most once a minute.
- Two concurrent creations of one username: the second gets 409, on PostgreSQL too.
"""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from pwdlib import PasswordHash
from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from api import ratelimit
from api.areas import service as areas
from api.audit import service as audit
from api.audit.models import AuditEntry
from api.auth.models import AccessToken, ApiKey, User
from api.auth.schemas import ApiKeyCreate, FailedSignIn, UserCreate, UserUpdate
from api.config import get_settings
from api.devices.models import Operator
from api.errors import Conflict, NotFound, RuleViolation, TooManyRequests, Unauthorized, field_problem, get_or_404
from api.middleware import client_var
from api.pagination import PageParams, paginate
from api.principal import ANONYMOUS, Principal
from api.services.models import ServicePoint
from api.types import Role

TOKEN_PREFIX = "rkt_"
API_KEY_PREFIX = "rkk_"
USER_FIELDS = ["id", "username", "display_name", "role", "scope_area_code", "scope_service_point_id", "operator_id", "active"]
API_KEY_FIELDS = ["id", "name", "prefix", "role", "scope_area_code", "scope_service_point_id", "owner_id", "expires_at", "revoked_at"]
# Failures of one username from one address (not the username alone: anyone could lock it out).
LOGIN_BY_USERNAME = "login-user-client"
LOGIN_BY_CLIENT = "login-client"
# Longer inputs are refused without hashing: argon2 over megabytes would be a cheap way to load the server.
MAX_PASSWORD_LENGTH = 256

password_hash = PasswordHash.recommended()
# Verifying against this when the username is unknown keeps the timing the same as a wrong password.
_DUMMY_HASH = password_hash.hash("rekam-timing-equaliser")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for values stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _check_scope(session: AsyncSession, *, role: Role, area: str | None, service_point_id: int | None, operator_linked: bool = False) -> None:
    if role == Role.supervisor and not area:
        raise RuleViolation.on_field("area", code="user.area_needed")
    if role != Role.supervisor and area is not None:
        raise RuleViolation.on_field("area", code="user.area_only_supervisor")
    if role == Role.operator and service_point_id is None and not operator_linked:
        raise RuleViolation.on_field("service_point_id", code="user.point_needed")
    if role != Role.operator and service_point_id is not None:
        raise RuleViolation.on_field("service_point_id", code="user.point_only_operator")
    if area is not None:
        await areas.get(session, code=area, location="body")
    if service_point_id is not None and await session.get(ServicePoint, service_point_id) is None:
        raise NotFound(
            code="not_found.thing",
            params={"what": "service point", "id": service_point_id},
            errors=[field_problem("service_point_id", code="unknown_reference")],
        )


async def _check_operator_link(session: AsyncSession, *, operator_id: int, user_id: int | None = None) -> None:
    """The operator exists and no other account is them."""
    if await session.get(Operator, operator_id) is None:
        raise NotFound(code="not_found.thing", params={"what": "operator", "id": operator_id}, errors=[field_problem("operator_id", code="unknown_reference")])
    other = await session.scalar(select(User.id).where(User.operator_id == operator_id, User.id != (user_id or 0)))
    if other is not None:
        raise Conflict(code="user.operator_linked", errors=[field_problem("operator_id", code="user.operator_linked")])


async def create_user(session: AsyncSession, *, data: UserCreate, actor: Principal) -> User:
    if await session.scalar(select(User.id).where(User.username == data.username)) is not None:
        raise Conflict(code="user.username_taken", errors=[field_problem("username", code="user.username_taken")])
    await _check_scope(session, role=data.role, area=data.area, service_point_id=data.service_point_id, operator_linked=data.operator_id is not None)
    if data.operator_id is not None:
        await _check_operator_link(session, operator_id=data.operator_id)
    user = User(
        username=data.username,
        display_name=data.display_name,
        password_hash=password_hash.hash(data.password),
        role=data.role.value,
        scope_area_code=data.area,
        scope_service_point_id=data.service_point_id,
        operator_id=data.operator_id,
        active=True,
    )
    try:
        # A savepoint: a concurrent request that took the username (or the operator) first makes
        # this insert fail on the unique index, which is a 409, not a broken transaction.
        async with session.begin_nested():
            session.add(user)
            await session.flush()
    except IntegrityError:
        if await session.scalar(select(User.id).where(User.username == data.username)) is not None:
            raise Conflict(code="user.username_taken", errors=[field_problem("username", code="user.username_taken")]) from None
        raise Conflict(code="user.operator_linked", errors=[field_problem("operator_id", code="user.operator_linked")]) from None
    await audit.record(session, actor=actor, action="user.create", entity="user", entity_id=user.id, after=audit.snapshot_of(user, USER_FIELDS))
    return user


async def get_user(session: AsyncSession, *, user_id: int) -> User:
    return await get_or_404(session, User, user_id, what="user")


async def get_user_by_username(session: AsyncSession, *, username: str) -> User:
    user = await session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(code="user.unknown")
    return user


async def update_user(session: AsyncSession, *, user_id: int, data: UserUpdate, actor: Principal, transfer_keys_to: str | None = None) -> User:
    """Change an account; a new password or deactivation revokes all its tokens.

    Deactivation also revokes the API keys the account owns, or hands them to the active admin
    `transfer_keys_to` (a username) when given.
    """
    user = await get_user(session, user_id=user_id)
    before = audit.snapshot_of(user, USER_FIELDS)
    changes = data.model_dump(exclude_unset=True)
    for name in ("display_name", "password", "active", "role"):
        if name in changes and changes[name] is None:
            raise RuleViolation.on_field(name, code="not_null")
    if changes.get("active") is False and actor.kind == "user" and actor.id == user.id:
        raise RuleViolation.on_field("active", code="user.deactivate_self")
    # Who the account is stays with a new role: it is not a scope.
    operator_id = changes.get("operator_id", user.operator_id)
    if operator_id is not None and operator_id != user.operator_id:
        await _check_operator_link(session, operator_id=operator_id, user_id=user.id)
    if {"role", "area", "service_point_id", "operator_id"} & changes.keys():
        role = Role(changes.get("role", user.role))
        # A new role drops the old scope unless a new one is given with it.
        same_role = role == user.role
        area = changes.get("area", user.scope_area_code if same_role else None)
        point = changes.get("service_point_id", user.scope_service_point_id if same_role else None)
        await _check_scope(session, role=role, area=area, service_point_id=point, operator_linked=operator_id is not None)
        user.role, user.scope_area_code, user.scope_service_point_id = role.value, area, point
        user.operator_id = operator_id
    if "display_name" in changes:
        user.display_name = changes["display_name"]
    if "password" in changes:
        user.password_hash = password_hash.hash(changes["password"])
    if "active" in changes:
        user.active = changes["active"]
    if "password" in changes or changes.get("active") is False:
        await session.execute(update(AccessToken).where(AccessToken.user_id == user.id, AccessToken.revoked_at.is_(None)).values(revoked_at=_now()))
    if changes.get("active") is False:
        await _release_keys(session, owner=user, transfer_to=transfer_keys_to, actor=actor)
    await session.flush()
    after = audit.snapshot_of(user, USER_FIELDS)
    if "password" in changes:
        after["password"] = "changed"  # masked on the way in; says that it changed, not to what
    await audit.record(session, actor=actor, action="user.update", entity="user", entity_id=user.id, before=before, after=after)
    return user


async def deactivate_user(session: AsyncSession, *, username: str, actor: Principal, transfer_keys_to: str | None = None) -> User:
    user = await get_user_by_username(session, username=username)
    return await update_user(session, user_id=user.id, data=UserUpdate(active=False), actor=actor, transfer_keys_to=transfer_keys_to)


async def _release_keys(session: AsyncSession, *, owner: User, transfer_to: str | None, actor: Principal) -> None:
    """The deactivated `owner`'s live API keys: revoked, or owned by `transfer_to` from now on."""
    heir = None
    if transfer_to is not None:
        heir = await get_user_by_username(session, username=transfer_to)
        if not heir.active or heir.role != Role.admin.value or heir.id == owner.id:
            raise RuleViolation.on_field("transfer_keys_to", code="user.keys_heir")
    keys = (await session.scalars(select(ApiKey).where(ApiKey.owner_id == owner.id, ApiKey.revoked_at.is_(None)))).all()
    for key in keys:
        before = audit.snapshot_of(key, API_KEY_FIELDS)
        if heir is not None:
            key.owner_id, action = heir.id, "api_key.transfer"
        else:
            key.revoked_at, action = _now(), "api_key.revoke"
        await session.flush()
        await audit.record(session, actor=actor, action=action, entity="api_key", entity_id=key.id, before=before, after=audit.snapshot_of(key, API_KEY_FIELDS))


async def list_users(session: AsyncSession, *, page: PageParams) -> tuple[list[User], str | None]:
    return await paginate(session, select(User), keys=[User.id], page=page)


async def issue_token(session: AsyncSession, *, user: User) -> tuple[str, int]:
    """A new bearer token for `user` and its lifetime in seconds."""
    ttl = timedelta(minutes=get_settings().token_ttl_minutes)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = _now()
    session.add(AccessToken(token_hash=digest(token), user_id=user.id, created_at=now, expires_at=now + ttl))
    await session.flush()
    return token, int(ttl.total_seconds())


async def sign_in(session: AsyncSession, *, username: str, password: str) -> tuple[str, int]:
    """A new bearer token and its lifetime in seconds; 401 for a wrong or inactive account, 429 when throttled.

    Only the address that failed is held back: failures are counted per (username, address) and
    per address, never per username alone, so nobody can lock an account out for its owner.
    """
    settings = get_settings()
    username = username.strip().lower()
    client = client_var.get() or "unknown"
    limits = [
        (LOGIN_BY_USERNAME, f"{username}\x00{client}", settings.login_failure_rate),
        (LOGIN_BY_CLIENT, client, settings.login_failure_rate_per_client),
    ]
    user = await session.scalar(select(User).where(User.username == username))
    waits = [await ratelimit.retry_after(session, bucket=bucket, key=key, limit=limit) for bucket, key, limit in limits]
    wait = max((w for w in waits if w is not None), default=None)
    if wait is not None:
        await audit.record(session, actor=ANONYMOUS, action="auth.login_refused", entity="user", entity_id=user.id if user else None)
        raise TooManyRequests(retry_after=wait, keep_changes=True, code="auth.too_many_failures")
    if len(password) > MAX_PASSWORD_LENGTH:
        ok = False
    elif user is None:
        password_hash.verify(password, _DUMMY_HASH)
        ok = False
    else:
        ok = password_hash.verify(password, user.password_hash) and user.active
    if not ok or user is None:
        for bucket, key, limit in limits:
            await ratelimit.count(session, bucket=bucket, key=key, limit=limit)
        await audit.record(session, actor=ANONYMOUS, action="auth.login_failed", entity="user", entity_id=user.id if user else None)
        raise Unauthorized(code="auth.wrong_credentials", keep_changes=True)
    await ratelimit.reset(session, bucket=LOGIN_BY_USERNAME, key=limits[0][1])
    token, ttl = await issue_token(session, user=user)
    await audit.record(session, actor=_principal_of_user(user), action="auth.login", entity="user", entity_id=user.id)
    return token, ttl


RECENT_FAILURES_DAYS = 30
RECENT_FAILURES_SHOWN = 20


async def recent_failed_sign_ins(session: AsyncSession, *, user_id: int) -> list[FailedSignIn]:
    """Failed and refused sign-ins to this account in the last 30 days, newest first (at most 20)."""
    since = _now() - timedelta(days=RECENT_FAILURES_DAYS)
    rows = (
        await session.execute(
            select(AuditEntry.at, AuditEntry.action, AuditEntry.client)
            .where(
                AuditEntry.entity == "user",
                AuditEntry.entity_id == str(user_id),
                AuditEntry.action.in_(["auth.login_failed", "auth.login_refused"]),
                AuditEntry.at >= since,
            )
            .order_by(AuditEntry.id.desc())
            .limit(RECENT_FAILURES_SHOWN)
        )
    ).all()
    return [FailedSignIn(at=at, refused=action == "auth.login_refused", client=client) for at, action, client in rows]


def _principal_of_user(user: User | Row[Any, *tuple[Any, ...]], token_id: int | None = None) -> Principal:
    """The principal of an account (its row, or a row with its columns: `_SIGNED_IN`)."""
    return Principal(
        kind="user",
        id=user.id,
        name=user.username,
        role=Role(user.role),
        area=user.scope_area_code,
        service_point_id=user.scope_service_point_id,
        operator_id=user.operator_id,
        token_id=token_id,
    )


# Every signed-in request reads its token and account: the columns a principal needs, one statement
# built once (its hash a parameter), rows rather than two ORM objects.
_SIGNED_IN = (
    select(
        AccessToken.id.label("token_id"),
        AccessToken.revoked_at,
        AccessToken.expires_at,
        User.id,
        User.username,
        User.role,
        User.scope_area_code,
        User.scope_service_point_id,
        User.operator_id,
        User.active,
    )
    .join(User, User.id == AccessToken.user_id)
    .where(AccessToken.token_hash == bindparam("token_hash"))
)


async def principal_from_token(session: AsyncSession, *, token: str) -> Principal:
    row = (await session.execute(_SIGNED_IN, {"token_hash": digest(token)})).first()
    if row is None:
        raise Unauthorized(code="auth.token_invalid")
    if row.revoked_at is not None or _aware(row.expires_at) <= _now():
        raise Unauthorized(code="auth.token_expired")
    if not row.active:
        raise Unauthorized(code="auth.account_inactive")
    return _principal_of_user(row, row.token_id)


async def sign_out(session: AsyncSession, *, principal: Principal) -> None:
    if principal.token_id is None:
        raise RuleViolation(code="auth.sign_out_token_only")
    access = await session.get(AccessToken, principal.token_id)
    if access is not None and access.revoked_at is None:
        access.revoked_at = _now()
        await session.flush()
        await audit.record(session, actor=principal, action="auth.logout", entity="user", entity_id=principal.id)


async def create_api_key(session: AsyncSession, *, data: ApiKeyCreate, actor: Principal) -> tuple[ApiKey, str]:
    """A new key owned by `data.owner` (a username) or else the acting account; shown once."""
    await _check_scope(session, role=data.role, area=data.area, service_point_id=data.service_point_id)
    owner_id = await _key_owner(session, data=data, actor=actor)
    secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
    now = _now()
    key = ApiKey(
        name=data.name,
        prefix=secret[:12],
        key_hash=digest(secret),
        role=data.role.value,
        scope_area_code=data.area,
        scope_service_point_id=data.service_point_id,
        created_by_user_id=actor.id if actor.kind == "user" else None,
        owner_id=owner_id,
        created_at=now,
        expires_at=now + timedelta(days=data.expires_in_days or get_settings().api_key_ttl_days),
    )
    session.add(key)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="api_key.create",
        entity="api_key",
        entity_id=key.id,
        after=audit.snapshot_of(key, API_KEY_FIELDS),
    )
    return key, secret


async def _key_owner(session: AsyncSession, *, data: ApiKeyCreate, actor: Principal) -> int:
    if data.owner is not None:
        owner = await session.scalar(select(User).where(User.username == data.owner))
        if owner is None or not owner.active:
            raise RuleViolation.on_field("owner", code="key.owner_inactive")
        if owner.role != Role.admin.value and owner.role != data.role.value:
            raise RuleViolation.on_field("owner", code="key.owner_role")
        return owner.id
    if actor.kind == "user" and actor.id is not None:
        return actor.id
    if actor.kind == "api_key" and actor.id is not None:
        parent = await session.get(ApiKey, actor.id)
        if parent is not None and parent.owner_id is not None:
            return parent.owner_id
    raise RuleViolation.on_field("owner", code="key.owner_missing")


def parse_days(text: str | None) -> int | None:
    """`30d` (or `30`) -> 30."""
    if text is None:
        return None
    return int(text.strip().removesuffix("d"))


async def list_api_keys(session: AsyncSession, *, page: PageParams, expiring_within_days: int | None = None) -> tuple[list[ApiKey], str | None]:
    """All keys; with `expiring_within_days`, the live keys that expire within that many days."""
    stmt = select(ApiKey)
    if expiring_within_days is not None:
        now = _now()
        stmt = stmt.where(ApiKey.revoked_at.is_(None), ApiKey.expires_at > now, ApiKey.expires_at <= now + timedelta(days=expiring_within_days))
    return await paginate(session, stmt, keys=[ApiKey.id], page=page)


async def own_api_keys(session: AsyncSession, *, user_id: int) -> list[ApiKey]:
    """The live keys this account is answerable for (owner), soonest to expire first."""
    stmt = (
        select(ApiKey)
        .where(ApiKey.owner_id == user_id, ApiKey.revoked_at.is_(None), ApiKey.expires_at > _now())
        .order_by(ApiKey.expires_at, ApiKey.id)
        .limit(100)
    )
    return list((await session.scalars(stmt)).all())


async def revoke_api_key(session: AsyncSession, *, key_id: int, actor: Principal) -> ApiKey:
    key = await session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(code="not_found.thing", params={"what": "API key", "id": key_id})
    if key.revoked_at is None:
        before = audit.snapshot_of(key, API_KEY_FIELDS)
        key.revoked_at = _now()
        await session.flush()
        await audit.record(
            session, actor=actor, action="api_key.revoke", entity="api_key", entity_id=key.id, before=before, after=audit.snapshot_of(key, API_KEY_FIELDS)
        )
    return key


async def _note_key_used(session: AsyncSession, *, api_key: ApiKey, now: datetime) -> None:
    """`last_used_at`, at most once a minute, so that a busy script does not turn every request
    into a write. The row stays locked until the request's COMMIT: a request that finds it locked
    (another one of the key's is noting the same minute) skips it rather than queueing behind it
    (`SKIP LOCKED`; issue #22: a script's concurrent posts waited for each other here). `FOR NO KEY
    UPDATE`, as the update itself takes: rows referring to the key are not held up either."""
    stale = now - timedelta(minutes=1)
    mine = (
        select(ApiKey.id)
        .where(ApiKey.id == api_key.id, (ApiKey.last_used_at.is_(None)) | (ApiKey.last_used_at < stale))
        .with_for_update(skip_locked=True, key_share=True)
        .scalar_subquery()
    )
    noted = await session.execute(update(ApiKey).where(ApiKey.id == mine).values(last_used_at=now).execution_options(synchronize_session=False))
    if noted.rowcount:  # type: ignore[attr-defined]  # a CursorResult for an UPDATE
        set_committed_value(api_key, "last_used_at", now)


async def principal_from_api_key(session: AsyncSession, *, key: str) -> Principal:
    row = (
        await session.execute(select(ApiKey, User.active, User.role).outerjoin(User, User.id == ApiKey.owner_id).where(ApiKey.key_hash == digest(key)))
    ).first()
    if row is None or row[0].revoked_at is not None:
        raise Unauthorized(code="auth.key_invalid")
    api_key, owner_active, owner_role = row
    now = _now()
    if _aware(api_key.expires_at) <= now:
        raise Unauthorized(code="auth.key_expired")
    if not owner_active:
        # Deactivation revokes the owner's keys; this also covers an owner deactivated by hand.
        raise Unauthorized(code="auth.key_owner_inactive")
    if owner_role != Role.admin.value and owner_role != api_key.role:
        # A key is never more than its owner: an admin moved to another role takes their keys' power with them.
        raise Unauthorized(code="auth.key_owner_role")
    if api_key.last_used_at is None or now - _aware(api_key.last_used_at) > timedelta(minutes=1):
        await _note_key_used(session, api_key=api_key, now=now)
    return Principal(
        kind="api_key",
        id=api_key.id,
        name=f"key:{api_key.name}",
        role=Role(api_key.role),
        area=api_key.scope_area_code,
        service_point_id=api_key.scope_service_point_id,
    )
