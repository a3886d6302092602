"""The public negation API under its documented name: `emodata.negation.resolve(words, cues=None,
method=None) -> list[Negation]`. The code lives on the ground floor, in `emodata.text.negation`
(window rule, `Negation`, `resolve`) and the CD-SCO cue and scope models beside it."""
from __future__ import annotations

from emodata.text.negation import Negation, resolve

__all__ = ["Negation", "resolve"]
