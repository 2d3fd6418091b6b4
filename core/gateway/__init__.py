"""Payment gateway and identity check: interfaces, and the sandboxes that are the default.

`payment_gateway()` is the gateway in force: the embedded sandbox unless a real adapter (or a
test double) was installed with `set_payment_gateway`.
"""

from __future__ import annotations

import threading

from core.gateway.base import GatewayDecline, PaymentGateway

__all__ = ["GatewayDecline", "PaymentGateway", "payment_gateway", "set_payment_gateway"]

_lock = threading.Lock()
_gateway: PaymentGateway | None = None


def payment_gateway() -> PaymentGateway:
    """The configured payment gateway (the sandbox by default)."""
    global _gateway
    with _lock:
        if _gateway is None:
            from core.gateway.sandbox import SandboxGateway

            _gateway = SandboxGateway()
        return _gateway


def set_payment_gateway(gateway: PaymentGateway | None) -> None:
    """Install a gateway (a real adapter, a test double); None returns to the sandbox."""
    global _gateway
    with _lock:
        _gateway = gateway
