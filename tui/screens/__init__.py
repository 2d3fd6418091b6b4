"""One module per screen of CONTRACT.md; console sections plug in through `sections.py`."""
