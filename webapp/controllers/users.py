"""Users (admins only): list, create, change role, deactivate, set a new password."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp import accounts, audit
from webapp.auth import ADMINS, current_user
from webapp.controllers.common import actor, found, read_form
from webapp.forms import ROLE_CHOICES, AccountForm, new_user_form, set_password_form, user_update_form
from webapp.htmx import redirect, render
from webapp.models import Role, User

LAST_ADMIN = "This is the last active admin: make someone else an admin first."
TAKEN = "That username is taken."


async def _record(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    action: str,
    user: User,
    changes: dict[str, Any] | None = None,
) -> None:
    """An admin's change to an account, for the admins' Activity (Sign-ins), in the change's transaction."""
    entry = audit.entry(
        actor(request), action=action, record_type="account", record_id=user.id, label=user.username, changes=changes
    )
    await audit.write(session, [entry])


def _edit_page(user: User, form: AccountForm, password_form: AccountForm) -> dict[str, Any]:
    return {"user": user, "form": form, "password_form": password_form, "roles": ROLE_CHOICES}


class UserController(Controller):
    path = "/users"
    opt = ADMINS

    @get("/", name="users:list", status_code=200)
    async def list_users(self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]) -> Template:
        users = await accounts.list_users(session)
        required = await accounts.roles_requiring_second_factor(session)
        context = {"users": users, "roles": ROLE_CHOICES, "required": required}
        return render(request, page="users/list.html", context=context)

    @post("/second-factor-policy", name="users:policy", status_code=303)
    async def second_factor_policy(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]
    ) -> Redirect:
        """Which roles must sign in with a second factor (a ticked box per role). Accounts of such a role
        without one are sent to set one up right after their password, before anything else."""
        data = await read_form(request)
        before = await accounts.roles_requiring_second_factor(session)
        after = {role for role in ROLE_CHOICES if data.get(f"require_{role}") == "on"}
        changes = {role: [role in before, role in after] for role in ROLE_CHOICES if (role in before) ^ (role in after)}
        for role in changes:
            await accounts.require_second_factor(session, role=role, required=role in after)
        if changes:
            entry = audit.entry(actor(request), action="second_factor_policy", record_type="account", changes=changes)
            await audit.write(session, [entry])
        await session.commit()
        return redirect(request.app.route_reverse("users:list"), flash="Saved which roles need a second factor.")

    @get("/new", name="users:new", status_code=200)
    async def new_user(self, request: Request[Any, Any, Any]) -> Template:
        context = {"form": AccountForm(values={"role": Role.viewer.value}), "roles": ROLE_CHOICES}
        return render(request, page="users/new.html", context=context)

    @post("/", name="users:create", status_code=303)
    async def create_user(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]
    ) -> Template | Redirect:
        data = await read_form(request)
        form = new_user_form(data)
        status = 422
        if form.is_valid:
            password_hash = await request.app.state.passwords.hash(data["password"])
            now = request.app.state.settings.clock()
            user = accounts.new_user(
                username=form.values["username"], password_hash=password_hash, role=form.values["role"], now=now
            )
            if similar := await accounts.look_alike(session, username=user.username):
                form.errors["username"], status = _clash(user.username, similar.username), 409
            else:
                session.add(user)
                try:
                    await session.flush()
                    await _record(request, session, "user_created", user, {"role": [None, user.role]})
                    await session.commit()
                except IntegrityError:  # made meanwhile by someone else: the unique name or look-alike key
                    await session.rollback()
                    form.errors["username"], status = TAKEN, 409
                else:
                    return redirect(request.app.route_reverse("users:list"), flash=f"Created user {user.username}.")
        context = {"form": form, "roles": ROLE_CHOICES}
        return render(request, page="users/new.html", context=context, status_code=status)

    @get("/{user_id:int}", name="users:edit", status_code=200)
    async def edit_user(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], user_id: FromPath[int]
    ) -> Template:
        user = found(await accounts.get_user(session, user_id=user_id))
        form = AccountForm(values={"role": user.role, "is_active": "on" if user.is_active else ""})
        return render(request, page="users/edit.html", context=_edit_page(user, form, AccountForm(values={})))

    @post("/{user_id:int}", name="users:update", status_code=303)
    async def update_user(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], user_id: FromPath[int]
    ) -> Template | Redirect:
        form = user_update_form(await read_form(request))
        # The admins' rows before the user's, in the order the command line takes them (no deadlock between them).
        await accounts.lock_active_admins(session)
        user = found(await accounts.get_user(session, user_id=user_id, for_update=True))
        status = 422
        demotes_admin = user.role == Role.admin.value and (
            form.values["role"] != Role.admin.value or not form.values["is_active"]
        )
        if (
            form.is_valid
            and demotes_admin
            and user.is_active
            and not await accounts.other_active_admins(session, user_id=user_id)
        ):
            form.errors["role"], status = LAST_ADMIN, 409
        if not form.is_valid:
            context = _edit_page(user, form, AccountForm(values={}))
            return render(request, page="users/edit.html", context=context, status_code=status)
        before = {"role": user.role, "is_active": user.is_active}
        user.role, user.is_active = form.values["role"], bool(form.values["is_active"])
        session.add(user)
        after = {"role": user.role, "is_active": user.is_active}
        if changes := {name: [before[name], after[name]] for name in before if before[name] != after[name]}:
            await _record(request, session, "user_changed", user, changes)
        if not user.is_active:
            await accounts.end_user_sessions(session, user_id=user_id)
        await session.commit()
        me = current_user(request)
        # An admin who just gave up the admin role may no longer see the Users screen.
        demoted_self = me is not None and me.id == user_id and user.role != Role.admin.value
        target = request.app.route_reverse("heroes:list" if demoted_self else "users:list")
        return redirect(target, flash=f"Saved user {user.username}.")

    @post("/{user_id:int}/password", name="users:password", status_code=303)
    async def set_password(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], user_id: FromPath[int]
    ) -> Template | Redirect:
        data = await read_form(request)
        password_form = set_password_form(data)
        # Hashed before the user's row is locked: on SQLite the lock is the whole app's write lock.
        new_hash = await request.app.state.passwords.hash(data["password"]) if password_form.is_valid else None
        user = found(await accounts.get_user(session, user_id=user_id, for_update=True))
        if new_hash is None:
            form = AccountForm(values={"role": user.role, "is_active": "on" if user.is_active else ""})
            context = _edit_page(user, form, password_form)
            return render(request, page="users/edit.html", context=context, status_code=422)
        user.password_hash = new_hash
        session.add(user)
        await _record(request, session, "password_set", user)
        # A new password set by an admin signs that user out everywhere (but not the admin doing it).
        me = current_user(request)
        await accounts.end_user_sessions(session, user_id=user_id, keep=me.session_id if me else None)
        await session.commit()
        return redirect(request.app.route_reverse("users:list"), flash=f"Set a new password for {user.username}.")

    @post("/{user_id:int}/second-factor/reset", name="users:reset_second_factor", status_code=303)
    async def reset_second_factor(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], user_id: FromPath[int]
    ) -> Redirect:
        """For someone who lost their authenticator app and recovery codes: their second factor is removed (they
        set a new one up, if their role requires one, right after their password) and they are signed out."""
        user = found(await accounts.get_user(session, user_id=user_id, for_update=True))
        message = f"{user.username} has no second factor."
        if user.totp_secret:
            await accounts.set_second_factor(session, user=user, secret=None, codes=[])
            await _record(request, session, "second_factor_reset", user)
            me = current_user(request)
            await accounts.end_user_sessions(session, user_id=user_id, keep=me.session_id if me else None)
            message = f"Removed the second factor of {user.username}, who is signed out everywhere."
        await session.commit()
        return redirect(request.app.route_reverse("users:edit", user_id=user_id), flash=message)


def _clash(name: str, existing: str) -> str:
    return TAKEN if name == existing else f"That username looks like {existing}, which is taken. Choose another."
