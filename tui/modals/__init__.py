"""ModalScreen subclasses opened over a screen; Escape closes them and changes nothing."""
