"""Tokens of DynamoDB's PartiQL, with their positions.

Tokens (``kind``):

- ``ID``     an unquoted name: a letter or ``_``, then letters, digits, ``_`` or ``$``;
             kept as written (attribute names are case-sensitive)
- ``KW``     a keyword: an unquoted name in ``KEYWORDS``, any case; ``value`` is upper-cased
- ``QID``    a double-quoted name (a doubled ``"`` inside is one): any text, keywords too
- ``STR``    a single-quoted string, ``'it''s'`` -> ``it's``
- ``NUM``    a number without its sign: ``12``, ``1.5``, ``.5``, ``7.31e6``
- ``PARAM``  ``?``
- ``OP``     ``= <> != < <= > >= ( ) [ ] { } , . : + - * << >>``
- ``EOF``

``--`` starts a comment to the end of the line and ``/* ... */`` a block
comment; both count as white space. AWS refuses ``#`` and an unterminated
block comment with the "wasn't well formed" envelope and nothing after it
(observed, paritysuite/dynamodb-conformance partiqlGrammar).

Positions are what AWS puts in some messages, ``at <line>:<column>:<length>``,
counted in characters from 1.
"""

from __future__ import annotations

from dataclasses import dataclass

from cloudlet.protocol.errors import ValidationException

NOT_WELL_FORMED = "Statement wasn't well formed, can't be processed: "

# Words that cannot be bare attribute names (quote them: "value"). Kept to the
# words this grammar gives a meaning to, so ordinary attribute names such as
# ``year`` or ``status`` stay usable unquoted.
KEYWORDS = frozenset({
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "BETWEEN", "IS", "MISSING", "NULL", "TRUE",
    "FALSE", "INSERT", "INTO", "VALUE", "VALUES", "UPDATE", "SET", "REMOVE", "DELETE", "RETURNING",
    "ORDER", "BY", "EXISTS", "AS", "DISTINCT", "GROUP", "HAVING", "LIMIT",
})
_OPERATORS = ("<<", ">>", "<=", ">=", "<>", "!=", "=", "<", ">", "(", ")", "[", "]", "{", "}", ",", ".", ":",
              "+", "-", "*", "?")


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    value: str      # unescaped text; upper-cased for KW
    line: int
    column: int
    length: int     # characters the token spans in the statement

    def at(self, length: int | None = None) -> str:
        """`` at <line>:<column>:<length>``, as AWS appends it to some messages."""
        return f" at {self.line}:{self.column}:{self.length if length is None else length}"


def malformed(detail: str = "") -> ValidationException:
    return ValidationException(message=NOT_WELL_FORMED + detail)


def _is_start(c: str) -> bool:
    return c.isalpha() or c == "_"


def _is_part(c: str) -> bool:
    return c.isalnum() or c in "_$"


class _Scanner:
    def __init__(self, text: str):
        self.text = text
        self.i = 0
        self.line = 1
        self.line_start = 0
        self.tokens: list[Token] = []

    def add(self, kind: str, value: str, start: int) -> None:
        self.tokens.append(Token(kind, value, self.line, start - self.line_start + 1, self.i - start))

    def skip_space(self) -> None:
        text, n = self.text, len(self.text)
        while self.i < n:
            c = text[self.i]
            if c == "\n":
                self.i += 1
                self.line += 1
                self.line_start = self.i
            elif c.isspace():
                self.i += 1
            elif text.startswith("--", self.i):
                end = text.find("\n", self.i)
                self.i = n if end < 0 else end
            elif text.startswith("/*", self.i):
                end = text.find("*/", self.i + 2)
                if end < 0:
                    raise malformed()
                for k in range(self.i, end):
                    if text[k] == "\n":
                        self.line += 1
                        self.line_start = k + 1
                self.i = end + 2
            else:
                return

    def quoted(self, quote: str) -> str:
        """The text of a quoted token starting at ``self.i``; a doubled quote is one quote."""
        text, n = self.text, len(self.text)
        out = []
        k = self.i + 1
        while True:
            end = text.find(quote, k)
            if end < 0:
                raise malformed("Invalid quoted token")
            out.append(text[k:end])
            if end + 1 < n and text[end + 1] == quote:
                out.append(quote)
                k = end + 2
                continue
            self.i = end + 1
            return "".join(out)

    def number(self) -> None:
        text, n, start = self.text, len(self.text), self.i
        while self.i < n and text[self.i].isdigit():
            self.i += 1
        if self.i < n and text[self.i] == ".":
            self.i += 1
            while self.i < n and text[self.i].isdigit():
                self.i += 1
        if self.i < n and text[self.i] in "eE":
            k = self.i + 1
            if k < n and text[k] in "+-":
                k += 1
            if k < n and text[k].isdigit():
                while k < n and text[k].isdigit():
                    k += 1
                self.i = k
        self.add("NUM", text[start:self.i], start)

    def run(self) -> list[Token]:
        text, n = self.text, len(self.text)
        while True:
            self.skip_space()
            if self.i >= n:
                self.add("EOF", "<EOF>", self.i)
                return self.tokens
            start, c = self.i, text[self.i]
            if _is_start(c):
                while self.i < n and _is_part(text[self.i]):
                    self.i += 1
                word = text[start:self.i]
                if word.upper() in KEYWORDS:
                    self.add("KW", word.upper(), start)
                else:
                    self.add("ID", word, start)
            elif c == '"':
                self.add("QID", self.quoted('"'), start)
            elif c == "'":
                self.add("STR", self.quoted("'"), start)
            elif c.isdigit() or (c == "." and self.i + 1 < n and text[self.i + 1].isdigit()):
                self.number()
            else:
                op = next((o for o in _OPERATORS if text.startswith(o, self.i)), None)
                if op is None:
                    raise malformed()
                self.i += len(op)
                self.add("PARAM" if op == "?" else "OP", op, start)


def tokenize(text: str) -> list[Token]:
    """The statement's tokens, ending with ``EOF``; ValidationException for a
    character no token starts with."""
    return _Scanner(text).run()
