"""Token-level edits on a spaCy Doc, rendered back to text with the original spacing.

A `Rewrite` collects replacements and deletions by token index, then `render()` rebuilds the text
from `token.text_with_ws`: a deleted token hands its trailing space to the previous token when that
one had none ("is" + "n't " → "is "), a sentence that loses its first word gets its next word
capitalised, and "a"/"an" before a replaced word is re-agreed ("an awful day" → "a wonderful day").
"""
from __future__ import annotations

from spacy.tokens import Doc

from emodata.flips.morph import article_for, match_case


class Rewrite:
    """Pending edits of one Doc; `changed` says whether any edit was made."""

    def __init__(self, doc: Doc):
        self.doc = doc
        self.replace: dict[int, str] = {}
        self.delete: set[int] = set()

    @property
    def changed(self) -> bool:
        """Whether any token is replaced or deleted."""
        return bool(self.replace or self.delete)

    def touched(self, i: int) -> bool:
        """Whether token i already has an edit (generators never edit a token twice)."""
        return i in self.replace or i in self.delete

    def set(self, i: int, text: str, keep_case: bool = True) -> None:
        """Replace token i by `text` (capitalised like the token unless `keep_case` is False)."""
        self.replace[i] = match_case(self.doc[i].text, text) if keep_case else text

    def drop(self, i: int) -> None:
        """Delete token i."""
        self.delete.add(i)

    def render(self) -> str:
        """The edited text."""
        doc = self.doc
        pieces: list[list[str]] = []  # [text, whitespace] per kept token
        capitalise_next = False
        for tok in doc:
            i = tok.i
            if i in self.delete:
                if pieces and not pieces[-1][1]:
                    pieces[-1][1] = tok.whitespace_
                if tok.is_sent_start and tok.text[:1].isupper():
                    capitalise_next = True
                continue
            text = self.replace.get(i, tok.text)
            if capitalise_next and text[:1].isalpha():
                text = text[:1].upper() + text[1:]
            capitalise_next = False
            if i in self.replace and i > 0 and (i - 1) not in self.delete and doc[i - 1].lower_ in ("a", "an") \
                    and text[:1].isalpha():
                article = article_for(text)
                prev = pieces[-1] if pieces else None
                if prev is not None and prev[0].lower() in ("a", "an"):
                    prev[0] = match_case(prev[0], article)
            pieces.append([text, tok.whitespace_])
        return "".join(text + ws for text, ws in pieces).strip()
