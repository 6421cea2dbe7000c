"""Tokens of DynamoDB's expression language, and its syntax-error message.

One tokenizer serves every expression kind. Tokens:

- ``ID``     a name: an ASCII letter, then letters, digits or ``_``
- ``NAME``   an expression attribute name placeholder, ``#`` + [A-Za-z0-9_]+
- ``VALUE``  an expression attribute value placeholder, ``:`` + [A-Za-z0-9_]+
- ``INT``    a list index: ``0``, or a digit 1-9 followed by digits
- the keywords ``AND OR NOT BETWEEN IN SET REMOVE ADD DELETE`` (any case;
  their kind is the upper-cased word). They are keywords in every expression
  kind, so using one as a bare attribute name is a syntax error, as in AWS.
- the operators and punctuation ``= <> < <= > >= ( ) [ ] , . + -``
- ``BAD``    any other character, or a lone ``#`` / ``:``; the parser fails on it
- ``EOF``    the end, whose text is ``<EOF>``

AWS reports a syntax error as ``Syntax error; token: "<token>", near: "<near>"``
where *near* is the expression's text from the start of the token before the
offending one to the end of the token after it (observed: ``ADD hits : incr`` →
token ``":"``, near ``"hits : incr"``; ``INVALID SYNTAX HERE`` → token
``"INVALID"``, near ``"INVALID SYNTAX"``; a missing operand at the end →
token ``"<EOF>"``, near the previous token and anything after it).
"""

from __future__ import annotations

from dataclasses import dataclass

from cloudlet.protocol.errors import ValidationException

KEYWORDS = frozenset({"AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE"})
COMPARATORS = frozenset({"=", "<>", "<", "<=", ">", ">="})
_SINGLE = frozenset("=<>()[],.+-")
_WHITESPACE = frozenset(" \t\n\r")


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    start: int
    end: int


def _is_letter(c: str) -> bool:
    return ("a" <= c <= "z") or ("A" <= c <= "Z")


def _is_word(c: str) -> bool:
    return _is_letter(c) or ("0" <= c <= "9") or c == "_"


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in _WHITESPACE:
            i += 1
            continue
        start = i
        if _is_letter(c):
            while i < n and _is_word(text[i]):
                i += 1
            word = text[start:i]
            kind = word.upper() if word.upper() in KEYWORDS else "ID"
        elif c in "#:":
            i += 1
            while i < n and _is_word(text[i]):
                i += 1
            if i == start + 1:
                kind = "BAD"
            else:
                kind = "NAME" if c == "#" else "VALUE"
        elif "0" <= c <= "9":
            i += 1
            if c != "0":
                while i < n and "0" <= text[i] <= "9":
                    i += 1
            kind = "INT"
        elif c in "<>" and i + 1 < n and text[i + 1] in ("=>" if c == "<" else "="):
            i += 2
            kind = text[start:i]
        elif c in _SINGLE:
            i += 1
            kind = c
        else:
            i += 1
            kind = "BAD"
        tokens.append(Token(kind, text[start:i], start, i))
    tokens.append(Token("EOF", "<EOF>", n, n))
    return tokens


class ExpressionSyntaxError(Exception):
    """Raised inside the parser; ``at`` is the offending token's index, so that
    when alternatives are tried the one that read furthest can be reported."""

    def __init__(self, tokens: list[Token], at: int, text: str):
        self.tokens, self.at, self.text = tokens, at, text
        super().__init__(self.detail())

    def detail(self) -> str:
        tok = self.tokens[self.at]
        start = self.tokens[self.at - 1].start if self.at > 0 else 0
        end = self.tokens[self.at + 1].end if self.at + 1 < len(self.tokens) else tok.end
        return f'Syntax error; token: "{tok.text}", near: "{self.text[start:end]}"'


def invalid(label: str, message: str) -> ValidationException:
    """``Invalid <label>: <message>`` as a ValidationException."""
    return ValidationException(message=f"Invalid {label}: {message}")
