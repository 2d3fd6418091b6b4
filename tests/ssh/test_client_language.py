"""Over SSH the console speaks the language of the client's own locale (LC_ALL, LC_MESSAGES,
LANG as OpenSSH's SendEnv/SetEnv send them), never the server's (SPEC F18)."""

from __future__ import annotations

import sys

import pytest

from tests.ssh.conftest import RemoteConsole, open_connection


async def connect_with(port: int, env: dict[str, str], *, command: str | None = None,
                       term: str | None = "xterm-256color") -> RemoteConsole:
    conn = await open_connection(port)
    process = await conn.create_process(command, term_type=term, term_size=(100, 32),
                                        encoding=None, env=env)
    return RemoteConsole(conn, process, 100, 32)


async def test_a_client_with_a_chinese_lang_gets_the_welcome_screen_in_chinese(ssh_server):
    port = await ssh_server()
    console = await connect_with(port, {"LANG": "zh_CN.UTF-8"})
    try:
        text = await console.wait_for("免费注册")
        assert "登录" in text
        assert "Free Account" not in text
    finally:
        await console.close()


async def test_a_client_without_a_locale_gets_english_whatever_the_server_runs_in(
        ssh_server, monkeypatch):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.setenv("LC_ALL", "zh_CN.UTF-8")
    monkeypatch.setenv("CLOUDACCT_CLIENT_LANGUAGE", "zh-Hans")  # a stale one: not passed on
    port = await ssh_server()
    console = await connect_with(port, {})
    try:
        text = await console.wait_for("Free Account")
        assert "免费注册" not in text
    finally:
        await console.close()


async def test_lc_all_comes_before_lang_and_an_unknown_locale_means_english(ssh_server):
    port = await ssh_server()
    first = await connect_with(port, {"LC_ALL": "zh_SG.UTF-8", "LANG": "en_GB.UTF-8"})
    second = await connect_with(port, {"LC_ALL": "de_DE.UTF-8", "LANG": "zh_CN.UTF-8"})
    try:
        await first.wait_for("免费注册")
        await second.wait_for("Free Account")
    finally:
        await first.close()
        await second.close()


async def test_the_spawned_console_speaks_the_clients_language_too(ssh_server):
    """Without a zygote (the fallback), the console started as a new process."""
    from tui.ssh.launcher import ConsoleLauncher

    launcher = ConsoleLauncher(
        zygote_command=lambda fd: [sys.executable, "-c", "raise SystemExit(3)"])
    port = await ssh_server(launcher=launcher)
    console = await connect_with(port, {"LC_MESSAGES": "zh_CN.UTF-8"})
    try:
        await console.wait_for("免费注册")
        assert launcher.zygote is None
    finally:
        await console.close()


async def test_the_servers_own_lines_are_in_the_clients_language(ssh_server):
    port = await ssh_server()
    refused = await connect_with(port, {"LANG": "zh_CN.UTF-8"}, command="id")
    await refused.wait_closed()
    assert "不能执行命令" in refused.text()
    no_terminal = await connect_with(port, {"LANG": "zh_CN.UTF-8"}, term=None)
    await no_terminal.wait_closed()
    assert "需要终端" in no_terminal.text()
    english = await connect_with(port, {}, term=None)
    await english.wait_closed()
    assert "needs a terminal" in english.text()


async def test_an_idle_chinese_client_is_told_why_in_chinese(ssh_server):
    port = await ssh_server(idle_timeout_s=1.0)
    console = await connect_with(port, {"LANG": "zh_CN.UTF-8"})
    await console.wait_for("免费注册")
    await console.wait_closed(timeout=30)
    assert "长时间无操作" in console.text()


@pytest.mark.parametrize(("environment", "language"), [
    ({"LANG": "zh_CN.UTF-8"}, "zh-Hans"),
    ({"LANG": "zh_TW.UTF-8"}, None),
    ({"LC_ALL": "", "LANG": "zh_CN.UTF-8"}, "zh-Hans"),
    ({"LC_MESSAGES": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
    ({"LANG": "C"}, None),
    ({"LANG": "zh" + "\x1b[31m" * 40}, None),  # too long to be a locale
    ({"LANG": "zh_CN\x1b]0;owned\x07"}, "zh-Hans"),  # only the language goes on
    ({"TERM": "zh_CN.UTF-8", "LANGUAGE": "zh_CN"}, None),
    ({}, None),
])
def test_client_language(environment, language):
    from tui.ssh.server import client_language

    assert client_language(environment) == language


def test_the_console_environment_carries_the_language_not_the_servers_locale(monkeypatch):
    from tui.language import CLIENT_LANGUAGE_VARIABLE
    from tui.ssh.consoles import child_environment

    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.setenv("LC_ALL", "zh_CN.UTF-8")
    monkeypatch.setenv(CLIENT_LANGUAGE_VARIABLE, "zh-Hans")
    env = child_environment("xterm", None)
    assert env["LANG"] == "C.UTF-8"
    assert "LC_ALL" not in env and CLIENT_LANGUAGE_VARIABLE not in env
    assert child_environment("xterm", None, "zh-Hans")[CLIENT_LANGUAGE_VARIABLE] == "zh-Hans"
    assert CLIENT_LANGUAGE_VARIABLE not in child_environment("xterm", None, "zh_CN; rm -rf")
