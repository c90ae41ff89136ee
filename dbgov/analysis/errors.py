"""Errors of the analysis: bad input that stops a whole plan (exit code 2)."""

from __future__ import annotations


class AnalysisError(Exception):
    """Bad input that prevents analysing at all: the message names the file or object.

    Problems confined to one migration or statement never raise this; they become
    findings (rule ``render-failed``, ``sql-parse-error``) so the rest still gets analysed.
    """

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def __str__(self) -> str:
        return self.message
