"""DynamoDB PartiQL: the statement parser, its literals and the plan of a
statement (keys of a write, partitions of a SELECT). Pure; the statements
running against a server are in tests/services/dynamodb/test_ddb_partiql.py."""

from __future__ import annotations

import decimal

import pytest
from hypothesis import given, settings, strategies as st

from cloudlet.protocol.errors import ValidationException
from cloudlet.services.dynamodb.expressions.nodes import (
    AddAction, And, Between, Call, Compare, DeleteAction, In, Index, Name, Not, Or, Path, RemoveAction,
    SetAction, Value,
)
from cloudlet.services.dynamodb.partiql import literals as L
from cloudlet.services.dynamodb.partiql import plan as P
from cloudlet.services.dynamodb.partiql.lexer import NOT_WELL_FORMED, tokenize
from cloudlet.services.dynamodb.partiql.parser import Delete, Exists, Insert, Modify, Select, parse


def path(*parts):
    return Path(tuple(Index(p, str(p)) if isinstance(p, int) else Name(p) for p in parts))


def values_of(text, params=()):
    parsed = parse(text)
    return parsed, parsed.values(list(params))


def error_of(text) -> str:
    with pytest.raises(ValidationException) as e:
        parse(text)
    return e.value.message


# ---------------------------------------------------------------- tokens

def test_tokens_keep_positions_and_case():
    toks = tokenize('select "A b"\n  FROM tab -- note\n WHERE x <= ?')
    assert [(t.kind, t.value) for t in toks] == [
        ("KW", "SELECT"), ("QID", "A b"), ("KW", "FROM"), ("ID", "tab"), ("KW", "WHERE"), ("ID", "x"),
        ("OP", "<="), ("PARAM", "?"), ("EOF", "<EOF>")]
    assert (toks[2].line, toks[2].column) == (2, 3)
    assert toks[1].length == 5


def test_quotes_inside_strings_and_names_are_doubled():
    toks = tokenize(''''it''s' "say ""hi"""''')
    assert [t.value for t in toks[:2]] == ["it's", 'say "hi"']


@pytest.mark.parametrize("text", ["SELECT * FROM tab # note", "SELECT * FROM tab /* open", "SELECT * FROM tab WHERE a = 'x"])
def test_unreadable_text_is_not_well_formed(text):
    assert error_of(text).startswith(NOT_WELL_FORMED)


# ---------------------------------------------------------------- statements

def test_select_shapes():
    parsed = parse('SELECT a.b[0], "c d" FROM "tab"."idx" WHERE pk IN [\'x\', ?] ORDER BY sk DESC, pk')
    s = parsed.statement
    assert isinstance(s, Select)
    assert (s.table.name, s.table.index) == ("tab", "idx")
    assert s.projection == (path("a", "b", 0), path("c d"))
    assert s.where == In(path("pk"), (Value(":v0"), Value(":v1")))
    assert s.order == (("sk", True), ("pk", False))
    assert parsed.parameters == 1


def test_select_star_and_no_where():
    s = parse("SELECT * FROM tab").statement
    assert s.projection is None and s.where is None and s.order == ()


def test_keywords_any_case_names_as_written():
    s = parse("select Artist from Music where Artist = 'x' and not Year > 3").statement
    assert s.projection == (path("Artist"),)
    assert s.where == And(Compare("=", path("Artist"), Value(":v0")), Not(Compare(">", path("Year"), Value(":v1"))))


def test_condition_precedence_and_operators():
    s = parse("SELECT * FROM tab WHERE a = 1 OR b <> 2 AND c != 3 AND NOT d BETWEEN 1 AND 5 "
              "AND e NOT IN (1, 2) AND (f < 1 OR g >= 2)").statement
    v = [Value(f":v{i}") for i in range(9)]
    assert s.where == Or(
        Compare("=", path("a"), v[0]),
        And(And(And(And(Compare("<>", path("b"), v[1]), Compare("<>", path("c"), v[2])),
                    Not(Between(path("d"), v[3], v[4]))),
                Not(In(path("e"), (v[5], v[6])))),
            Or(Compare("<", path("f"), v[7]), Compare(">=", path("g"), v[8]))))


def test_functions_and_is():
    s = parse("SELECT * FROM tab WHERE ATTRIBUTE_EXISTS(a) AND begins_with(s, 'x') AND contains(l, 1) "
              "AND size(m) > 2 AND x IS MISSING AND y IS NOT MISSING AND attribute_type(z, 'S') "
              "AND attribute_exists(q) = false").statement
    terms = P.conjuncts(s.where)
    assert terms[0] == Call("attribute_exists", (path("a"),))
    assert terms[1] == Call("begins_with", (path("s"), Value(":v0")))
    assert terms[3] == Compare(">", Call("size", (path("m"),)), Value(":v2"))
    assert terms[4] == Call("attribute_not_exists", (path("x"),))
    assert terms[5] == Call("attribute_exists", (path("y"),))
    assert terms[7] == Not(Call("attribute_exists", (path("q"),)))


def test_is_type_tests_are_attribute_type():
    parsed, values = values_of("SELECT * FROM tab WHERE a IS BOOLEAN AND b IS NOT STRING AND c IS NULL")
    terms = P.conjuncts(parsed.statement.where)
    assert terms[0] == Call("attribute_type", (path("a"), Value(":v0")))
    assert values[":v0"] == {"S": "BOOL"}
    assert terms[1] == Not(Call("attribute_type", (path("b"), Value(":v1"))))
    assert terms[2] == Or(Call("attribute_not_exists", (path("c"),)), Call("attribute_type", (path("c"), Value(":v2"))))


def test_insert_item_with_every_literal():
    parsed = parse("INSERT INTO tab VALUE {'pk': 'a', 'n': -1.50e3, 'f': .5, 'b': TRUE, 'z': null, "
                   "'l': [1, 'x', [], {}], 'm': {'k': {'d': false}}, 'ss': <<'b', 'a'>>, 'ns': <<1, 2.0>>, 'p': ?}")
    s = parsed.statement
    assert isinstance(s, Insert)
    item = {name: L.bind(t, [{"B": b"\x01"}]) for name, t in s.item}
    assert item == {
        "pk": {"S": "a"}, "n": {"N": "-1500"}, "f": {"N": "0.5"}, "b": {"BOOL": True}, "z": {"NULL": True},
        "l": {"L": [{"N": "1"}, {"S": "x"}, {"L": []}, {"M": {}}]}, "m": {"M": {"k": {"M": {"d": {"BOOL": False}}}}},
        "ss": {"SS": ["b", "a"]}, "ns": {"NS": ["1", "2"]}, "p": {"B": b"\x01"}}


def test_update_actions():
    s = parse("UPDATE tab SET a = a + 1, b = list_append(b, [2]) SET c.d[1] = ? REMOVE e, f[0] "
              "SET s = SET_ADD(s, <<'x'>>) SET t = set_delete(t, ?) WHERE pk = 'k' RETURNING MODIFIED NEW *").statement
    assert isinstance(s, Modify)
    assert s.returning == "UPDATED_NEW"
    acts = s.update.actions()
    assert [k for k, _ in acts] == ["SET", "SET", "SET", "REMOVE", "REMOVE", "ADD", "DELETE"]
    assert isinstance(acts[0][1], SetAction) and acts[0][1].value.op == "+"
    assert acts[1][1].value == Call("list_append", (path("b"), Value(":v1")))
    assert acts[2][1].path == path("c", "d", 1)
    assert acts[3][1] == RemoveAction(path("e"))
    assert isinstance(acts[5][1], AddAction) and isinstance(acts[6][1], DeleteAction)
    assert [(name, fn) for name, fn, _ in s.set_checks] == [(acts[6][1].value.name, "SET_DELETE")]


def test_from_first_update_and_delete_and_exists():
    s = parse("from tab where pk = ? set a = 1 remove b returning all old *").statement
    assert isinstance(s, Modify) and s.returning == "ALL_OLD" and s.where == Compare("=", path("pk"), Value(":v0"))
    d = parse('DELETE FROM "tab" WHERE "pk" = \'a\' AND x = 1').statement
    assert isinstance(d, Delete) and d.returning is None
    e = parse("EXISTS(SELECT * FROM tab WHERE pk = 'a' AND x = 1)").statement
    assert isinstance(e, Exists) and e.select.table.name == "tab"


def test_parsing_is_cached_by_text():
    assert parse("SELECT * FROM tab WHERE pk = ?") is parse("SELECT * FROM tab WHERE pk = ?")


# ---------------------------------------------------------------- refusals

MALFORMED = [
    ("SELEC * FROM tab", "Expected data manipulation"),
    ("SELECT * FROM tab WHERE pk = 1 foo", "Unexpected token after expression"),
    ("SELECT * FROM tab WHERE pk = 1 e5", "Unexpected token after expression"),
    ("SELECT * FROM tab WHERE pk = 1)", "Unexpected token after expression"),
    ("DELETE FROM tab WHERE pk = 1 ORDER BY pk", "Unexpected token after expression"),
    ("SELECT * FROM tab ORDER BY pk WHERE pk = 1", "Unexpected token after expression"),
    ("INSERT INTO tab t VALUE {'pk': 'x'}", "Unexpected token after expression"),
    ("SELECT * FROM tab WHERE pk = 1e2147483648", ""),
    ("SELECT * FROM tab WHERE pk = 1.5e-2147483647", ""),
]


@pytest.mark.parametrize("text,detail", MALFORMED)
def test_malformed(text, detail):
    assert error_of(text) == NOT_WELL_FORMED + detail


REFUSED = [
    ("SELECT * FROM tab t WHERE pk = 'x'", "Aliasing is not supported"),
    ("SELECT * FROM tab AS t", "Aliasing is not supported"),
    ("SELECT a AS b FROM tab", "Aliasing is not supported"),
    ("UPDATE tab t SET a = 3 WHERE pk = 'x'", "Aliasing is not supported"),
    ("DELETE FROM tab t WHERE pk = 'x'", "Aliasing is not supported"),
    ("SELECT a, * FROM tab", "Other attributes should not be present in the projection when '*' is used."),
    ("SELECT DISTINCT a FROM tab", "Unsupported token in expression: DISTINCT"),
    ("SELECT * FROM tab WHERE a = 1 LIMIT 5", "Unsupported clause: LIMIT"),
    ("SELECT attribute_exists(ss) FROM tab", "Unexpected path component at 1:8:16"),
    ("SELECT * FROM tab WHERE EXISTS(ss)", "Unrecognized function: exists at 1:25:6"),
    ("SELECT * FROM tab WHERE set_add(ss, <<'x'>>) = ss", "Unrecognized function: set_add at 1:25:7"),
    ("SELECT * FROM tab WHERE attribute_exists('ss')",
     "Operator or function requires a document path; operator or function: attribute_exists"),
    ("SELECT * FROM tab WHERE attribute_exists()",
     "Incorrect number of operands for operator or function; operator or function: attribute_exists, "
     "number of operands: 0"),
    ("SELECT * FROM tab WHERE a = MISSING", "MISSING must be compared using IS operator"),
    ("SELECT * FROM tab WHERE a IS DATE", "Unsupported data type for IS operator: DATE. Supported data types are "
                                          "[MISSING, NULL, BOOLEAN, BLOB, STRING, NUMERIC, STRUCT, TUPLE, LIST]"),
    ("SELECT * FROM tab WHERE pk = 1e126",
     "Number overflow. Attempting to store a number with magnitude larger than supported range under root"),
    ("SELECT * FROM tab WHERE pk = 1e-131",
     "Number underflow. Attempting to store a number with magnitude smaller than supported range under root"),
    ("SELECT * FROM tab WHERE pk = 123456789012345678901234567890123456789",
     "Attempting to store more than 38 significant digits in a Number under root"),
    ("INSERT INTO tab VALUE {'pk': 1, 'm': {'x': 1e126}}",
     "Number overflow. Attempting to store a number with magnitude larger than supported range under root.x"),
    ("INSERT INTO tab VALUE {'pk': 1, 'l': [1, 1e126]}",
     "Number overflow. Attempting to store a number with magnitude larger than supported range under root[1]"),
    ("INSERT INTO tab VALUE {'pk': 'a', 'pk': 'b'}", "Duplicate keys in tuple. Key: pk under root"),
    ("INSERT INTO tab VALUE ?", "Unsupported format in item expression. Please use struct format {...} to "
                                "express item values for insert statement."),
    ("INSERT INTO tab VALUE {'pk': 'a'} RETURNING ALL OLD *", "RETURNING is not supported in INSERT"),
    ("INSERT INTO tab VALUE {'pk': 'a', 'ss': set_add(<<'a'>>, <<'b'>>)}",
     "Unsupported data type: set_add under key root at 1:41:7"),
    ("UPDATE tab SET t = set_add(ss, <<'x'>>) WHERE pk = 'a'",
     "The first argument to SET_ADD must equal the assignment value at 1:20:7"),
    ("UPDATE tab SET ss = set_add(<<'a'>>, <<'b'>>) WHERE pk = 'a'",
     "The first argument to SET_ADD must equal the assignment value at 1:21:7"),
    ("UPDATE tab SET ss = set_add(ss, 'x') WHERE pk = 'a'",
     "The second argument to SET_ADD must be a value with type SET at 1:29:2"),
    ("UPDATE tab SET ss = set_delete(ss, ['x']) WHERE pk = 'a'",
     "The second argument to SET_DELETE must be a value with type SET at 1:32:2"),
    ("UPDATE tab SET ss = set_add(ss) WHERE pk = 'a'", "SET_ADD must have exactly two arguments at 1:21:7"),
    ("UPDATE tab SET ss = set_add(ss, <<>>) WHERE pk = 'a'", "Empty bags are not supported"),
    ("UPDATE tab SET ss = set_add(ss, <<'x', 'x'>>) WHERE pk = 'a'",
     "One or more parameter values were invalid: Input collection [x, x] contains duplicates."),
    ("UPDATE tab SET ss = <<'x', 1>> WHERE pk = 'a'",
     "Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags"),
    ("UPDATE tab SET a = 1 WHERE pk = 'x' RETURNING ALL NEW",
     "Expected '*' after ( MODIFIED | ALL ) ( NEW | OLD ) in RETURNING clause"),
    ("SELECT * FROM tab WHERE a = 1 ORDER BY size(a)",
     "Argument to ORDER BY must be of type VariableReference. Type: Path"),
]


@pytest.mark.parametrize("text,message", REFUSED)
def test_refused(text, message):
    assert error_of(text) == message


# ---------------------------------------------------------------- parameters and values

def test_parameters_are_counted_and_checked_in_order():
    parsed = parse("SELECT * FROM tab WHERE pk = ? AND n = ?")
    with pytest.raises(ValidationException) as e:
        P.bind(parsed, [{"S": "a"}])
    assert e.value.message == "Number of parameters in request and statement don't match."
    with pytest.raises(ValidationException) as e:
        P.bind(parsed, [{"S": "a"}, {"N": "abc"}])
    assert e.value.message == "The parameter cannot be converted to a numeric value: abc"
    bound = P.bind(parsed, [{"S": "a"}, {"N": "01.50"}])
    assert bound.values == {":v0": {"S": "a"}, ":v1": {"N": "1.5"}}


def test_parameters_inside_values():
    parsed = parse("UPDATE tab SET l = [?, {'k': ?}], s = <<?, ?>> WHERE pk = 'a'")
    bound = P.bind(parsed, [{"N": "1"}, {"BOOL": True}, {"S": "x"}, {"S": "y"}])
    assert bound.values[":v0"] == {"L": [{"N": "1"}, {"M": {"k": {"BOOL": True}}}]}
    assert bound.values[":v1"] == {"SS": ["x", "y"]}
    with pytest.raises(ValidationException) as e:
        P.bind(parsed, [{"N": "1"}, {"BOOL": True}, {"S": "x"}, {"N": "1"}])
    assert e.value.message == L.BAG_TYPES


def test_set_function_parameter_must_be_a_set():
    parsed = parse("UPDATE tab SET ss = set_add(ss, ?) WHERE pk = 'a'")
    with pytest.raises(ValidationException) as e:
        P.bind(parsed, [{"S": "x"}])
    assert e.value.message == "The second argument to SET_ADD must be a value with type SET at 1:29:2"
    assert P.bind(parsed, [{"SS": ["x"]}]).values[":v0"] == {"SS": ["x"]}


def test_operand_types_are_checked_as_in_expressions_without_the_prefix():
    parsed = parse("SELECT * FROM tab WHERE pk = 'a' AND v < ?")
    with pytest.raises(ValidationException) as e:
        P.bind(parsed, [{"BOOL": True}])
    assert e.value.message == "Incorrect operand type for operator or function; operator or function: <, operand type: BOOL"
    P.bind(parsed, [{"N": "5"}])


# ---------------------------------------------------------------- plans


class Schema:
    def __init__(self, hash_name="pk", hash_type="S", range_name="sk", range_type="N"):
        self.hash_name, self.hash_type, self.range_name, self.range_type = hash_name, hash_type, range_name, range_type
        self.key_names = (hash_name,) + ((range_name,) if range_name else ())

    def key_of_request(self, key):
        return key


def key_of(text, params=(), schema=None):
    bound = P.bind(parse(text), list(params))
    keys, rest = P.split_key(bound.statement.where, (schema or Schema()).key_names)
    return P.item_key(keys, schema or Schema(), bound.values), rest


def test_write_key_and_rest():
    key, rest = key_of("DELETE FROM tab WHERE x = 1 AND sk = ? AND 'k' = pk AND attribute_exists(y)", [{"N": "2"}])
    assert key == {"pk": {"S": "k"}, "sk": {"N": "2"}}
    assert rest == And(Compare("=", path("x"), Value(":v0")), Call("attribute_exists", (path("y"),)))
    key, rest = key_of("DELETE FROM tab WHERE pk = 'k' AND sk = 1 AND pk = 'k'")
    assert rest is None


@pytest.mark.parametrize("where,message", [
    ("pk = 'k'", P.INCOMPLETE_KEY),
    ("pk = 'k' OR sk = 1", P.INCOMPLETE_KEY),
    ("pk = 'k' AND sk > 1", P.INCOMPLETE_KEY),
    ("pk = 'k' AND sk = 1 AND sk = 2", "Multiple conditions on same key sk. Only single item Update/Insert/Delete "
                                       "are supported"),
    ("pk = 1 AND sk = 1", "Key attribute's data type should match its data type in table's schema: Key pk"),
    ("pk = true AND sk = 1", "Key value must be of type S, N, or B. Key name: pk, Key type: BOOL"),
])
def test_write_key_refusals(where, message):
    with pytest.raises(ValidationException) as e:
        key_of(f"DELETE FROM tab WHERE {where}")
    assert e.value.message == message


def plan_of(where):
    return P.read_plan(parse(f"SELECT * FROM tab WHERE {where}").statement.where, "pk", "sk")


def test_read_plans():
    assert plan_of("x = 1").partitions is None
    assert plan_of("pk > 'a'").partitions is None
    assert plan_of("pk = 'a' OR x = 1").partitions is None
    assert plan_of("NOT pk = 'a'").partitions is None
    p = plan_of("x = 1 AND pk = 'a' AND sk BETWEEN 1 AND 5")
    assert p.partitions == (Value(":v1"),) and p.range == ("BETWEEN", (Value(":v2"), Value(":v3")))
    assert plan_of("pk IN ['a', 'b', 'a']").partitions == (Value(":v0"), Value(":v1"), Value(":v2"))
    p = plan_of("pk = 'a' AND sk = 1 OR pk = 'b' AND x = 2 OR (pk = 'c')")
    assert p.partitions == (Value(":v0"), Value(":v2"), Value(":v4")) and p.range is None
    assert plan_of("pk = 'a' AND 3 < sk").range == (">", (Value(":v1"),))
    assert plan_of("pk = 'a' AND begins_with(sk, 'x')").range == ("begins_with", (Value(":v1"),))
    assert plan_of("pk = 'a' AND sk <> 1").range is None


# ---------------------------------------------------------------- properties

_scalar = st.one_of(
    st.text(max_size=8).map(lambda s: {"S": s}),
    st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-10**6, max_value=10**6)
      .map(lambda d: {"N": str(d)}),
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
)
_values = st.recursive(
    _scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda xs: {"L": xs}),
        st.dictionaries(st.text(min_size=1, max_size=5), inner, max_size=4).map(lambda m: {"M": m}),
    ),
    max_leaves=12,
)


def literal(av) -> str:
    """PartiQL text for an AttributeValue."""
    (t, v), = av.items()
    if t == "S":
        return "'" + v.replace("'", "''") + "'"
    if t == "N":
        return v
    if t == "BOOL":
        return "true" if v else "false"
    if t == "NULL":
        return "NULL"
    if t == "L":
        return "[" + ", ".join(literal(x) for x in v) + "]"
    return "{" + ", ".join(f"{literal({'S': k})}: {literal(x)}" for k, x in v.items()) + "}"


def canonical(av):
    (t, v), = av.items()
    if t == "N":
        d = decimal.Decimal(v)
        return {"N": "0" if not d else format(d.normalize(), "f")}
    if t == "L":
        return {"L": [canonical(x) for x in v]}
    if t == "M":
        return {"M": {k: canonical(x) for k, x in v.items()}}
    return av


@settings(max_examples=150, deadline=None)
@given(_values)
def test_a_literal_means_what_a_parameter_means(av):
    by_literal = parse(f"UPDATE tab SET a = {literal(av)} WHERE pk = 'k'").values([])[":v0"]
    by_parameter = P.bind(parse("UPDATE tab SET a = ? WHERE pk = 'k'"), [av]).values[":v0"]
    assert by_literal == by_parameter == canonical(av)


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=12))
def test_any_attribute_name_can_be_quoted(name):
    quoted = '"' + name.replace('"', '""') + '"'
    s = parse(f"SELECT {quoted} FROM tab WHERE {quoted}.{quoted}[3] = 1").statement
    assert s.projection == (path(name),)
    assert s.where.left == path(name, name, 3)
