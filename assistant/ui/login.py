"""Staff login for the /staff workspace: a session id kept server-side in ``gr.State``.

Gradio state never leaves the server, so the browser holds no secret; every staff action checks
the session (``current_user``) because a Gradio event can be called without the page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import gradio as gr

from ..errors import AccessError, AssistantError
from ..present import describe
from ..storage import User

if TYPE_CHECKING:
    from ..ops import Operations

log = logging.getLogger("assistant.ui")


def current_user(ops: Operations, session: str | None) -> User:
    """The logged-in user, or ``AccessError`` ("log in again")."""
    return ops.staff.session_user(session)


def problem(ex: Exception) -> str:
    """A staff-facing message for a failed action: the Chinese summary and the specific fix."""
    status, zh, en = describe(ex, limit=0)
    if status >= 500:
        log.exception("staff action failed")
        return f"⚠️ {zh}"
    return f"⚠️ {zh}（{en}）" if isinstance(ex, AssistantError) and en else f"⚠️ {zh}"


def build(ops: Operations, session: gr.State) -> Callable[[gr.Column], None]:
    """The login box; call the returned function with the workspace (built below it) to wire it up:
    on success the box hides and the workspace shows."""
    with gr.Column(elem_id="pa-login") as box:
        gr.Markdown("### 工作人员登录")
        name = gr.Textbox(label="用户名", elem_id="pa-login-name", max_length=64)
        password = gr.Textbox(label="密码", type="password", elem_id="pa-login-password", max_length=200)
        submit = gr.Button("登录", variant="primary", elem_id="pa-login-submit")
        message = gr.Markdown(elem_id="pa-login-message")
    with gr.Row():
        who = gr.Markdown(elem_id="pa-whoami")
        logout = gr.Button("退出登录", size="sm", visible=False, elem_id="pa-logout")

    def login(user: str, pw: str) -> tuple[Any, ...]:
        try:
            token = ops.staff.login((user or "").strip(), pw or "")
        except AccessError:
            return None, "⚠️ 用户名或密码错误。", gr.skip(), gr.skip(), gr.skip(), "", ""
        except AssistantError as ex:
            return None, problem(ex), gr.skip(), gr.skip(), gr.skip(), "", gr.skip()
        u = ops.staff.session_user(token)
        role = "管理员" if u.is_admin else "工作人员"
        return token, "", gr.update(visible=False), gr.update(visible=True), gr.update(visible=True), f"已登录：**{u.name}**（{role}）", ""

    def leave(token: str | None) -> tuple[Any, ...]:
        ops.staff.logout(token)
        return None, gr.update(visible=True), gr.update(visible=False), gr.update(visible=False), "已退出登录。"

    def connect(workspace: gr.Column) -> None:
        outputs = [session, message, box, workspace, logout, who, password]
        submit.click(login, [name, password], outputs)
        password.submit(login, [name, password], outputs)
        logout.click(leave, [session], [session, box, workspace, logout, who])

    return connect
