"""Errors that name the file, the line and the problem."""
from __future__ import annotations

from pathlib import Path


class EmodataError(Exception):
    """Base class of every error emodata raises on purpose."""


class BadRowError(EmodataError):
    """A malformed row in a source file (the message names file, line and problem)."""

    def __init__(self, path: str | Path, line: int, problem: str):
        self.path = str(path)
        self.line = line
        self.problem = problem
        super().__init__(
            f"{self.path}, line {line}: {problem} "
            "(use --on-bad-row skip to count and skip such rows instead)"
        )


class DataNotFoundError(EmodataError):
    """A source or lexicon could not be found; the message says how to supply it."""


class VerificationError(EmodataError):
    """A manifest does not match the files on disk."""


class QualityGateError(EmodataError):
    """The QC gate found a critical failure; the message lists the failing expectations."""
