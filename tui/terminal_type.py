"""A terminal type (TERM) the console can trust, whatever the client or the shell sent.

Over SSH the client names its terminal type; it may hold a NUL (which no environment can
carry: setting it raises in the forked console) or control characters that Rich and Textual
would read. A terminal type is a short name of letters, digits and `.+_-`; anything else is
replaced by DEFAULT_TERM. Light on purpose: the SSH server imports it.
"""

from __future__ import annotations

import os
import re
from collections.abc import MutableMapping

DEFAULT_TERM = "xterm-256color"
_TERM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")


def clean_term(term: str | None) -> str:
    """`term` if it is a plausible terminal type name, else DEFAULT_TERM."""
    if term and _TERM_NAME.fullmatch(term):
        return term
    return DEFAULT_TERM


def clean_term_environment(environ: MutableMapping[str, str] | None = None) -> None:
    """Make TERM (and COLORTERM, which Rich reads too) plain names before anything reads
    them; COLORTERM is dropped when it is not one."""
    env = os.environ if environ is None else environ
    if "TERM" in env and clean_term(env["TERM"]) != env["TERM"]:
        env["TERM"] = clean_term(env["TERM"])
    colorterm = env.get("COLORTERM")
    if colorterm is not None and not _TERM_NAME.fullmatch(colorterm):
        del env["COLORTERM"]
