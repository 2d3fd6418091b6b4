"""The benchmark's baseline: a bare Textual app with the Welcome screen's widgets, nothing else
imported (tests/perf/bench.py starts it as a script of its own)."""

from __future__ import annotations


def run_baseline_app() -> None:
    """A Screen with the same Static/Button/Footer widgets as tui/screens/welcome.py."""
    from textual.app import App, ComposeResult
    from textual.binding import Binding
    from textual.containers import Center, Horizontal, Vertical
    from textual.screen import Screen
    from textual.widgets import Button, Footer, Static

    class BareWelcome(Screen):
        BINDINGS = [Binding("l", "noop", "Log on"), Binding("f", "noop", "Free account")]

        def compose(self) -> ComposeResult:
            yield Static("Alibaba Cloud", id="bar")
            with Center(), Vertical():
                yield Static("Alibaba Cloud", id="brand")
                yield Static("Your Alibaba Cloud account console: sign up, verify, add billing "
                             "and payment details, buy products and manage your account.")
                yield Static("", id="welcome-message")
                with Horizontal():
                    yield Button("Log on", id="log-on", variant="primary", compact=True)
                    yield Button("Free Account", id="free-account", variant="success",
                                 compact=True)
                yield Static("New here? Choose Free Account to sign up.")
            yield Footer()

        def action_noop(self) -> None:
            pass

    class BareApp(App[None]):
        ENABLE_COMMAND_PALETTE = False

        def on_mount(self) -> None:
            self.push_screen(BareWelcome())

    BareApp().run()



if __name__ == "__main__":
    run_baseline_app()
