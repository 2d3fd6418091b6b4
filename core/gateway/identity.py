"""The real-name identity check (F6): an interface a real provider's adapter could implement,
and the sandbox that is the embedded default.

The sandbox answers at once (CONTRACT.md, "Real-name sandbox"): a well-formed resident ID whose
number ends in `X` or an even digit is approved, an odd last digit is rejected as "identity could
not be verified"; passports and permits are approved when well-formed. Format checks happen
before the check is asked (core.real_name), so the sandbox only ever sees well-formed numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

NOT_VERIFIED = "identity could not be verified"


@dataclass(frozen=True)
class IdentityDecision:
    approved: bool
    reason: str | None = None  # the provider's words when not approved


class IdentityVerifier(Protocol):
    def verify_individual(self, legal_name: str, id_type: str,
                          id_number: str) -> IdentityDecision:
        """Does this person hold this document? Answers at once."""
        ...


class SandboxIdentityVerifier:
    """The embedded default: decides from the number alone, without any network."""

    def verify_individual(self, legal_name: str, id_type: str,
                          id_number: str) -> IdentityDecision:
        if id_type != "resident_id":
            return IdentityDecision(True)
        last = id_number[-1:].upper()
        if last == "X" or (last.isdigit() and int(last) % 2 == 0):
            return IdentityDecision(True)
        return IdentityDecision(False, NOT_VERIFIED)


_verifier: IdentityVerifier | None = None


def identity_verifier() -> IdentityVerifier:
    global _verifier
    if _verifier is None:
        _verifier = SandboxIdentityVerifier()
    return _verifier


def set_identity_verifier(verifier: IdentityVerifier | None) -> None:
    """Use another provider (None returns to the sandbox)."""
    global _verifier
    _verifier = verifier
