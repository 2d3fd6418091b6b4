"""The line at the top of every screen: the provider's name and where the person is."""

from __future__ import annotations

from textual.widgets import Static

from tui.widgets.safe_text import clean_text


class BrandBar(Static):
    """`<brand>  ·  <place>` (the brand comes from the environment: shown as text)."""

    DEFAULT_CSS = """
    BrandBar {
        dock: top;
        height: 1;
        padding: 0 1;
        background: $primary;
        color: $text;
        text-style: bold;
    }
    """

    def __init__(self, place: str = "", **kwargs) -> None:
        from core.config import settings

        brand = clean_text(settings().brand)
        text = f"{brand}  ·  {place}" if place else brand
        super().__init__(text, markup=False, **kwargs)
