"""DynamoDB's PartiQL statements: a recursive-descent parser into frozen
statement values whose conditions and updates are the AST of DynamoDB's
expression language (``expressions.nodes``), so one evaluator and one update
engine serve both.

Grammar (keywords case-insensitive; names as written are attribute names)::

    statement  := select | insert | update | delete | from_update | EXISTS '(' select ')'
    select     := SELECT ('*' | path (',' path)*) FROM table [WHERE cond]
                  [ORDER BY name [ASC|DESC] (',' name [ASC|DESC])*]
    insert     := INSERT INTO table VALUE tuple
    update     := UPDATE table actions [WHERE cond] [returning]
    from_update:= FROM table WHERE cond actions [returning]
    delete     := DELETE FROM table [WHERE cond] [returning]
    table      := name ['.' name]                -- "table"."index"
    actions    := (SET path '=' rhs (',' path '=' rhs)* | REMOVE path (',' path)*)+
    rhs        := set_add(path, bag) | set_delete(path, bag) | term (('+'|'-') term)*
    term       := value | path | list_append(term, term)
    returning  := RETURNING (ALL|MODIFIED) (OLD|NEW) '*'
    cond       := and (OR and)*  ;  and := not (AND not)*  ;  not := NOT not | predicate
    predicate  := '(' cond ')' | function
                | operand (comparator operand | [NOT] BETWEEN operand AND operand
                           | [NOT] IN ('[' | '(') operand, ... (']' | ')') | IS [NOT] (MISSING | NULL | type))
    operand    := value | path | size(path)
    value      := '?' | 'string' | number | TRUE | FALSE | NULL | tuple | '[' value, ... ']' | '<<' value, ... '>>'
    path       := name ('.' name | '[' integer ']' | '[' 'string' ']')*

Every literal and ``?`` becomes a value placeholder ``:v<n>`` of the AST and a
template (``literals``) that gives its AttributeValue per request. Parsed
statements are cached by text.

Messages: the "wasn't well formed" envelope for what the parser cannot read
(``Expected data manipulation``, ``Unexpected token after expression``), and
DynamoDB's own texts for what it reads but refuses (``Aliasing is not
supported``, ``Unrecognized function: set_add at 1:40:7``, ...), as observed
against AWS (paritysuite/dynamodb-conformance) or in DynamoDB Local's message
table. Details of the envelope not seen from AWS are best guesses.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from cloudlet.services.dynamodb import values as V
from cloudlet.services.dynamodb.errors import validation
from cloudlet.services.dynamodb.expressions.nodes import (
    AddAction, And, Arith, Between, Call, Clause, Compare, DeleteAction, In, Index, Name, Not, Or, Path,
    RemoveAction, SetAction, Update, Value,
)
from cloudlet.services.dynamodb.expressions.parser import CONDITION_FUNCTIONS, OPERAND_FUNCTIONS
from cloudlet.services.dynamodb.partiql import literals as L
from cloudlet.services.dynamodb.partiql.lexer import Token, malformed, tokenize

LABEL = "PartiQL"  # the label of the expression ASTs built here (see plan.strip_label)
ALIASING = "Aliasing is not supported"
LEFTOVER = "Unexpected token after expression"
_COMPARATORS = {"=": "=", "<>": "<>", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
PREDICATES = frozenset(CONDITION_FUNCTIONS)
# IS <type>: the PartiQL type names AWS accepts, as the attribute_type tag they test.
IS_TYPES = {"NULL": "NULL", "BOOL": "BOOL", "BOOLEAN": "BOOL", "STRING": "S", "NUMERIC": "N", "DECIMAL": "N",
            "INT": "N", "INTEGER": "N", "FLOAT": "N", "DOUBLE": "N", "BLOB": "B", "STRUCT": "M", "TUPLE": "M",
            "LIST": "L"}
_IS_TYPES_TEXT = "[MISSING, NULL, BOOLEAN, BLOB, STRING, NUMERIC, STRUCT, TUPLE, LIST]"
RETURN_VALUES = {("ALL", "OLD"): "ALL_OLD", ("MODIFIED", "OLD"): "UPDATED_OLD", ("ALL", "NEW"): "ALL_NEW",
                 ("MODIFIED", "NEW"): "UPDATED_NEW"}


# ---------------------------------------------------------------- statements

@dataclass(frozen=True, slots=True)
class TableRef:
    name: str
    index: str | None


@dataclass(frozen=True, slots=True)
class Select:
    table: TableRef
    projection: tuple | None  # (Path, ...); None for '*'
    where: object | None      # a condition node
    order: tuple = ()         # ((attribute name, descending), ...)


@dataclass(frozen=True, slots=True)
class Insert:
    table: TableRef
    item: tuple               # ((attribute name, template), ...)


@dataclass(frozen=True, slots=True)
class Modify:
    """An UPDATE: its actions as an UpdateExpression AST."""
    table: TableRef
    update: Update
    where: object | None
    returning: str | None     # a ReturnValues name
    set_checks: tuple = ()    # (value placeholder, function, token of its first argument): parameters of set_add/set_delete


@dataclass(frozen=True, slots=True)
class Delete:
    table: TableRef
    where: object | None
    returning: str | None


@dataclass(frozen=True, slots=True)
class Exists:
    select: Select


@dataclass(frozen=True, slots=True)
class Parsed:
    statement: Select | Insert | Modify | Delete | Exists
    templates: tuple          # the template of value placeholder ``:v<n>`` at position n
    parameters: int           # how many '?'

    @property
    def is_read(self) -> bool:
        return isinstance(self.statement, Select)

    def values(self, params: list[dict]) -> dict:
        """The placeholder map of this statement for one request's (checked) parameters."""
        return {f":v{n}": L.bind(t, params) for n, t in enumerate(self.templates)}


# ---------------------------------------------------------------- the parser

class _Parser:
    def __init__(self, text: str):
        self.tokens = tokenize(text)
        self.i = 0
        self.templates: list = []
        self.parameters = 0

    # -- tokens --
    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def next(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != "EOF":
            self.i += 1
        return tok

    def is_kw(self, *words: str, ahead: int = 0) -> bool:
        tok = self.peek(ahead)
        return tok.kind == "KW" and tok.value in words

    def is_op(self, *ops: str, ahead: int = 0) -> bool:
        tok = self.peek(ahead)
        return tok.kind == "OP" and tok.value in ops

    def accept_kw(self, word: str) -> bool:
        if self.is_kw(word):
            self.i += 1
            return True
        return False

    def accept_op(self, op: str) -> bool:
        if self.is_op(op):
            self.i += 1
            return True
        return False

    def expect_kw(self, word: str) -> None:
        if not self.accept_kw(word):
            raise malformed(f"Expected {word}")

    def expect_op(self, op: str) -> None:
        if not self.accept_op(op):
            raise malformed(f"Expected '{op}'")

    def word(self) -> str | None:
        """The upper-cased text of an unquoted word (keyword or name) ahead, else None."""
        tok = self.peek()
        return tok.value.upper() if tok.kind in ("KW", "ID") else None

    # -- statements --
    def statement(self):
        tok = self.peek()
        kinds = {"SELECT": self.select, "INSERT": self.insert, "UPDATE": self.update, "DELETE": self.delete,
                 "FROM": self.from_update, "EXISTS": self.exists}
        parse = kinds.get(tok.value) if tok.kind == "KW" else None
        if parse is None:
            raise malformed("Expected data manipulation")
        statement = parse()
        if self.peek().kind != "EOF":
            raise malformed(LEFTOVER)
        return statement

    def table(self, alias_allowed: bool = False) -> TableRef:
        parts = [self.name("table name")]
        while self.accept_op("."):
            parts.append(self.name("index name"))
        if len(parts) > 2:
            raise validation("A path may contain at most 2 components in the FROM clause")
        if "" in parts:  # before the table is looked up (nubo-db/dynamodb-conformance tier3 partiql)
            raise validation("Path component cannot be an empty string")
        if not alias_allowed and (self.is_kw("AS") or self.peek().kind == "ID"):
            raise validation(ALIASING)
        return TableRef(parts[0], parts[1] if len(parts) > 1 else None)

    def name(self, what: str) -> str:
        tok = self.peek()
        if tok.kind not in ("ID", "QID"):
            raise malformed(f"Expected {what}")
        self.i += 1
        return tok.value

    def select(self) -> Select:
        self.next()
        if self.is_kw("DISTINCT"):
            raise validation("Unsupported token in expression: DISTINCT")
        if self.is_kw("VALUE") or self.word() == "PIVOT":
            raise validation("Select projection doesn't support value or pivot keywords")
        projection = self.projection()
        self.expect_kw("FROM")
        table = self.table()
        where = self.condition() if self.accept_kw("WHERE") else None
        for clause in ("GROUP", "HAVING", "LIMIT"):
            if self.is_kw(clause):
                raise validation(f"Unsupported clause: {'GROUP BY' if clause == 'GROUP' else clause}")
        order = self.order_by() if self.accept_kw("ORDER") else ()
        return Select(table, projection, where, order)

    def projection(self) -> tuple | None:
        items, star = [], False
        while True:
            tok = self.peek()
            if self.accept_op("*"):
                star = True
            elif tok.kind == "ID" and self.is_op("(", ahead=1):
                raise validation(f"Unexpected path component{tok.at()}")
            else:
                items.append(self.path())
                if self.is_kw("AS") or (self.peek().kind == "ID" and not self.is_kw("FROM")):
                    raise validation(ALIASING)
            if not self.accept_op(","):
                break
        if star and items:
            raise validation("Other attributes should not be present in the projection when '*' is used.")
        return None if star else tuple(items)

    def order_by(self) -> tuple:
        self.expect_kw("BY")
        terms = []
        while True:
            tok = self.peek()
            if tok.kind not in ("ID", "QID") or self.is_op(".", "[", "(", ahead=1):
                kind = "Path" if tok.kind in ("ID", "QID") else "Literal"
                raise validation(f"Argument to ORDER BY must be of type VariableReference. Type: {kind}")
            self.i += 1
            descending = False
            if self.word() in ("ASC", "DESC"):
                descending = self.next().value.upper() == "DESC"
            terms.append((tok.value, descending))
            if not self.accept_op(","):
                return tuple(terms)

    def insert(self) -> Insert:
        self.next()
        self.expect_kw("INTO")
        table = self.table(alias_allowed=True)
        if self.is_kw("VALUES") or (self.is_kw("VALUE") and self.is_op("<<", ahead=1)):
            raise validation('Unsupported operation: Inserting multiple items in a single statement is not '
                             'supported, use "INSERT INTO tableName VALUE item" instead')
        if not self.accept_kw("VALUE"):
            raise malformed(LEFTOVER if self.peek().kind in ("ID", "QID", "KW") else "Expected VALUE")
        if not self.is_op("{"):
            raise validation("Unsupported format in item expression. Please use struct format {...} to express "
                             "item values for insert statement.")
        item = self.tuple_entries("root", top=True)
        if self.is_kw("RETURNING"):
            raise validation("RETURNING is not supported in INSERT")
        return Insert(table, tuple(item))

    def update(self) -> Modify:
        self.next()
        table = self.table()
        actions = self.actions()
        where = self.condition() if self.accept_kw("WHERE") else None
        return self.modify(table, actions, where)

    def from_update(self) -> Modify:
        self.next()
        table = self.table()
        where = self.condition() if self.accept_kw("WHERE") else None
        return self.modify(table, self.actions(), where)

    def modify(self, table: TableRef, actions: list, where) -> Modify:
        returning = self.returning()
        by_keyword: dict[str, list] = {}
        for keyword, action in actions:
            by_keyword.setdefault(keyword, []).append(action)
        clauses = tuple(Clause(k, tuple(by_keyword[k])) for k in ("SET", "REMOVE", "ADD", "DELETE") if k in by_keyword)
        return Modify(table, Update(LABEL, clauses), where, returning, tuple(self.set_checks))

    def delete(self) -> Delete:
        self.next()
        self.expect_kw("FROM")
        table = self.table()
        where = self.condition() if self.accept_kw("WHERE") else None
        return Delete(table, where, self.returning())

    def exists(self) -> Exists:
        self.next()
        self.expect_op("(")
        if not self.is_kw("SELECT"):
            raise malformed("Expected SELECT")
        select = self.select()
        self.expect_op(")")
        return Exists(select)

    def returning(self) -> str | None:
        if not self.accept_kw("RETURNING"):
            return None
        which = (self.word(), self.word() and self.peek(1).value.upper())
        if which not in RETURN_VALUES:
            raise malformed("Expected ( MODIFIED | ALL ) ( NEW | OLD ) after RETURNING")
        self.i += 2
        if not self.accept_op("*"):
            raise validation("Expected '*' after ( MODIFIED | ALL ) ( NEW | OLD ) in RETURNING clause")
        if self.is_op(","):
            raise validation("Invalid syntax with multiple returning elements in RETURNING clause")
        return RETURN_VALUES[which]

    # -- UPDATE actions --
    def actions(self) -> list:
        self.set_checks: list = []
        actions = []
        while True:
            if self.accept_kw("SET"):
                actions.append(self.assignment())
                while self.accept_op(","):
                    actions.append(self.assignment())
            elif self.accept_kw("REMOVE"):
                actions.append(("REMOVE", RemoveAction(self.path())))
                while self.accept_op(","):
                    actions.append(("REMOVE", RemoveAction(self.path())))
            else:
                break
        if not actions:
            raise malformed("Expected SET or REMOVE")
        return actions

    def assignment(self) -> tuple:
        target = self.path()
        self.expect_op("=")
        tok = self.peek()
        if tok.kind == "ID" and tok.value.lower() in ("set_add", "set_delete") and self.is_op("(", ahead=1):
            return self.set_function(target, tok)
        return "SET", SetAction(target, self.arith())

    def set_function(self, target: Path, tok: Token) -> tuple:
        """``SET s = set_add(s, <<...>>)``: an ADD (set_delete: a DELETE) of the set to ``s``."""
        fn = tok.value.upper()
        self.i += 2
        args = []
        if not self.is_op(")"):
            while True:
                start = self.peek()
                args.append((start, self.set_operand()))
                if not self.accept_op(","):
                    break
        self.expect_op(")")
        if len(args) != 2:
            raise validation(f"{fn} must have exactly two arguments{tok.at()}")
        (first_tok, first), (_, second) = args
        if first != target:
            raise validation(f"The first argument to {fn} must equal the assignment value{tok.at()}")
        template = self.templates[int(second.name[2:])] if isinstance(second, Value) else None
        if template is None or template.kind not in ("const", "bag", "param") or (
                template.is_const and V.value_type(template.value) not in ("SS", "NS", "BS")):
            raise validation(f"The second argument to {fn} must be a value with type SET{first_tok.at()}")
        if template.kind == "param":
            self.set_checks.append((second.name, fn, first_tok))
        if fn == "SET_ADD":
            return "ADD", AddAction(target, second)
        return "DELETE", DeleteAction(target, second)

    def arith(self):
        left = self.set_operand()
        while self.is_op("+", "-"):
            op = self.next().value
            left = Arith(op, left, self.set_operand())
        return left

    def set_operand(self):
        tok = self.peek()
        if tok.kind == "ID" and self.is_op("(", ahead=1):
            name = tok.value.lower()
            if name != "list_append":
                raise validation(f"Unrecognized function: {name}{tok.at()}")
            self.i += 2
            args = self.arguments(self.set_operand)
            if len(args) != 2:
                raise validation("Incorrect number of operands for operator or function; operator or function: "
                                 f"list_append, number of operands: {len(args)}")
            return Call("list_append", tuple(args))
        if tok.kind in ("ID", "QID"):
            return self.path()
        return self.value_node("root")

    def arguments(self, parse) -> list:
        """Arguments after '(' up to and including ')'."""
        args = []
        if not self.accept_op(")"):
            args.append(parse())
            while self.accept_op(","):
                args.append(parse())
            self.expect_op(")")
        return args

    # -- conditions --
    def condition(self):
        left = self.conjunction()
        while self.accept_kw("OR"):
            left = Or(left, self.conjunction())
        return left

    def conjunction(self):
        left = self.negation()
        while self.accept_kw("AND"):
            left = And(left, self.negation())
        return left

    def negation(self):
        if self.accept_kw("NOT"):
            return Not(self.negation())
        return self.predicate()

    def predicate(self):
        if self.accept_op("("):
            inner = self.condition()
            self.expect_op(")")
            return inner
        left = self.operand()
        tok = self.peek()
        if tok.kind == "OP" and tok.value in _COMPARATORS:
            self.i += 1
            return self.comparison(_COMPARATORS[tok.value], left, self.operand())
        negate = self.accept_kw("NOT")
        if self.accept_kw("BETWEEN"):
            low = self.operand()
            self.expect_kw("AND")
            node = Between(left, low, self.operand())
        elif self.accept_kw("IN"):
            node = self.in_list(left)
        elif negate:
            raise malformed("Expected BETWEEN or IN after NOT")
        elif self.accept_kw("IS"):
            return self.is_test(left)
        elif isinstance(left, Call) and left.name in PREDICATES:
            return left
        else:
            raise validation("WHERE clause must contain an expression that resolves to a boolean")
        return Not(node) if negate else node

    def comparison(self, op: str, left, right):
        # attribute_exists(a) = true: the function's own truth, or its negation
        for call, other in ((left, right), (right, left)):
            if isinstance(call, Call) and call.name in PREDICATES and isinstance(other, Value):
                template = self.templates[int(other.name[2:])]
                if template.is_const and "BOOL" in template.value and op in ("=", "<>"):
                    holds = template.value["BOOL"] == (op == "=")
                    return call if holds else Not(call)
        return Compare(op, left, right)

    def in_list(self, left):
        close = {"[": "]", "(": ")"}.get(self.peek().value) if self.peek().kind == "OP" else None
        if close is None:
            raise validation("IN operator must have a left hand argument of type Variable Reference and right "
                             "hand argument of type Seq with at least one member")
        self.i += 1
        options = [self.operand()]
        while self.accept_op(","):
            options.append(self.operand())
        self.expect_op(close)
        return In(left, tuple(options))

    def is_test(self, left):
        negate = self.accept_kw("NOT")
        tok = self.next()
        type_name = tok.value.upper() if tok.kind in ("KW", "ID") else None
        if not isinstance(left, Path):
            raise validation("The left hand side argument to IS must be a Variable Reference, Literal, or Path")
        if type_name == "MISSING":
            return Call("attribute_exists" if negate else "attribute_not_exists", (left,))
        if type_name not in IS_TYPES:
            raise validation(f"Unsupported data type for IS operator: {tok.value}. Supported data types are "
                             f"{_IS_TYPES_TEXT}")
        test = Call("attribute_type", (left, self.constant({"S": IS_TYPES[type_name]})))
        if type_name == "NULL":
            # PartiQL: MISSING IS NULL too (a missing attribute is null-ish)
            test = Or(Call("attribute_not_exists", (left,)), test)
        return Not(test) if negate else test

    def operand(self):
        tok = self.peek()
        if tok.kind == "KW" and tok.value == "MISSING":
            raise validation("MISSING must be compared using IS operator")
        if tok.kind in ("ID", "KW") and self.is_op("(", ahead=1):
            return self.function(tok)
        if tok.kind in ("ID", "QID"):
            return self.path()
        return self.value_node("root")

    def function(self, tok: Token) -> Call:
        name = tok.value.lower()
        arity = CONDITION_FUNCTIONS.get(name) or OPERAND_FUNCTIONS.get(name)
        if arity is None:
            raise validation(f"Unrecognized function: {name}{tok.at()}")
        self.i += 2
        args = self.arguments(self.operand)
        if len(args) != arity:
            raise validation("Incorrect number of operands for operator or function; "
                             f"operator or function: {name}, number of operands: {len(args)}")
        if name in ("attribute_exists", "attribute_not_exists", "attribute_type") and not isinstance(args[0], Path):
            raise validation(f"Operator or function requires a document path; operator or function: {name}")
        return Call(name, tuple(args))

    # -- paths --
    def path(self) -> Path:
        elements = [Name(self.name("attribute name"))]
        while True:
            if self.accept_op("."):
                if self.peek().kind == "KW":
                    raise malformed("Invalid path dot component")
                elements.append(Name(self.name("attribute name")))
            elif self.accept_op("["):
                tok = self.next()
                if tok.kind == "NUM" and tok.value.isdigit():
                    elements.append(Index(int(tok.value), tok.value))
                elif tok.kind == "STR":
                    elements.append(Name(tok.value))
                else:
                    raise malformed("Invalid path component")
                self.expect_op("]")
            else:
                return Path(tuple(elements))

    # -- values --
    def constant(self, value: dict) -> Value:
        self.templates.append(L.const(value))
        return Value(f":v{len(self.templates) - 1}")

    def value_node(self, where: str) -> Value:
        self.templates.append(self.value(where))
        return Value(f":v{len(self.templates) - 1}")

    def value(self, where: str):
        tok = self.next()
        if tok.kind == "PARAM":
            self.parameters += 1
            return L.param(self.parameters - 1)
        if tok.kind == "STR":
            return L.const({"S": tok.value})
        if tok.kind == "NUM":
            return L.const(L.number(tok.value, where))
        if tok.kind == "OP" and tok.value == "-" and self.peek().kind == "NUM":
            return L.const(L.number("-" + self.next().value, where))
        if tok.kind == "KW" and tok.value in ("TRUE", "FALSE"):
            return L.const({"BOOL": tok.value == "TRUE"})
        if tok.kind == "KW" and tok.value == "NULL":
            return L.const({"NULL": True})
        if tok.kind == "OP" and tok.value == "{":
            self.i -= 1
            return L.composite("map", tuple(self.tuple_entries(where)))
        if tok.kind == "OP" and tok.value == "[":
            members = []
            if not self.accept_op("]"):
                while True:
                    members.append(self.value(f"{where}[{len(members)}]"))
                    if not self.accept_op(","):
                        break
                self.expect_op("]")
            return L.composite("list", tuple(members))
        if tok.kind == "OP" and tok.value == "<<":
            members = []
            if not self.accept_op(">>"):
                while True:
                    members.append(self.value(where))
                    if not self.accept_op(","):
                        break
                self.expect_op(">>")
            return L.bag(members)
        if tok.kind == "ID" and self.is_op("("):
            raise validation(f"Unsupported data type: {tok.value.lower()} under key {where}{tok.at()}")
        raise malformed(f"Unexpected term {tok.value}" if tok.kind != "EOF" else "Unexpected end of statement")

    def tuple_entries(self, where: str, top: bool = False) -> list:
        """``{'name': value, ...}``; at the top of an INSERT each value is its own root."""
        self.expect_op("{")
        entries: list = []
        seen = set()
        if self.accept_op("}"):
            return entries
        while True:
            tok = self.next()
            if tok.kind not in ("STR", "QID"):
                raise malformed("Tuple keys must be string literals")
            if tok.value in seen:
                raise validation(f"Duplicate keys in tuple. Key: {tok.value} under {where}")
            seen.add(tok.value)
            self.expect_op(":")
            entries.append((tok.value, self.value("root" if top else f"{where}.{tok.value}")))
            if not self.accept_op(","):
                break
        self.expect_op("}")
        return entries


@functools.lru_cache(maxsize=4096)
def parse(text: str) -> Parsed:
    """A statement's parsed form (cached by text: clients send the same
    statement many times with other parameters). Raises ValidationException."""
    p = _Parser(text)
    statement = p.statement()
    return Parsed(statement, tuple(p.templates), p.parameters)


__all__ = ["parse", "Parsed", "Select", "Insert", "Modify", "Delete", "Exists", "TableRef", "LABEL"]
