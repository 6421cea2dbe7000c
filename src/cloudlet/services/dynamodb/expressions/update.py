"""Applying a parsed UpdateExpression to an item.

Every value is worked out from the item as it was before the update (so
``SET a = b, b = a`` swaps). List indexes also refer to the old list: ``REMOVE
l[0], l[2]`` removes the first and third elements, and a SET past the end of a
list appends, in index order.

Runtime errors, in the order AWS reports them (observed):

1. a path whose parent exists but is not a map (for ``.name``) or a list (for
   ``[n]``): ``The document path provided in the update expression is invalid for update``;
2. an operand of the wrong type in the item (``+``/``-`` on a non-number,
   ``list_append`` on a non-list, ADD/DELETE on a different type):
   ``An operand in the update expression has an incorrect data type``;
3. section by section from the last written: a path whose parent is missing
   (the same "invalid for update" message), then an attribute a SET reads that
   does not exist: ``The provided expression refers to an attribute that does not exist in the item``;
4. a number result out of DynamoDB's range or precision.
"""

from __future__ import annotations

from cloudlet.protocol.errors import ValidationException
from cloudlet.services.dynamodb.expressions import values as av
from cloudlet.services.dynamodb.expressions.evaluator import get_path, project
from cloudlet.services.dynamodb.expressions.nodes import Arith, Call, Path, RemoveAction, Update, Value
from cloudlet.services.dynamodb.expressions.validate import resolve_path, value_of

INVALID_PATH = "The document path provided in the update expression is invalid for update"
WRONG_TYPE = "An operand in the update expression has an incorrect data type"
MISSING = "The provided expression refers to an attribute that does not exist in the item"


def _error(message: str) -> ValidationException:
    return ValidationException(message=message)


def _fits(parent, step) -> bool:
    return ("L" in parent) if isinstance(step, int) else ("M" in parent)


def _writable(item: dict, key: tuple) -> bool:
    if len(key) == 1:
        return True
    parent = get_path(item, key[:-1])
    return parent is not None and _fits(parent, key[-1])


class _Action:
    __slots__ = ("keyword", "node", "clause", "key", "value")

    def __init__(self, keyword, node, clause, key):
        self.keyword, self.node, self.clause, self.key, self.value = keyword, node, clause, key, None


class _Updater:
    def __init__(self, ast: Update, item: dict, names, values):
        self.label, self.item, self.names, self.values = ast.label, item, names, values
        self.actions = [
            _Action(clause.keyword, action, ci, resolve_path(action.path, names, ast.label))
            for ci, clause in enumerate(ast.clauses) for action in clause.actions
        ]

    # -- SET values --
    def set_value(self, node, full: bool):
        """The value of a SET operand; in the first pass (``full`` False) only
        type errors are raised and missing attributes give None."""
        if isinstance(node, Value):
            return value_of(node, self.values, self.label)
        if isinstance(node, Path):
            found = get_path(self.item, resolve_path(node, self.names, self.label))
            if found is None and full:
                raise _error(MISSING)
            return found
        if isinstance(node, Call) and node.name == "if_not_exists":
            found = get_path(self.item, resolve_path(node.args[0], self.names, self.label))
            return found if found is not None else self.set_value(node.args[1], full)
        if isinstance(node, Call) and node.name == "list_append":
            left = self._typed(node.args[0], "L", full)
            right = self._typed(node.args[1], "L", full)
            if left is None or right is None:
                return None
            return {"L": av.clone(left["L"]) + av.clone(right["L"])}
        if isinstance(node, Arith):
            left = self._typed(node.left, "N", full)
            right = self._typed(node.right, "N", full)
            if left is None or right is None:
                return None
            x, y = av.decimal_of(left["N"]), av.decimal_of(right["N"])
            return {"N": av.exact_sum(x, y, node.op == "-")}     # a Decimal until checked
        raise TypeError(f"not an update operand: {node!r}")

    def _typed(self, node, wanted: str, full: bool):
        value = self.set_value(node, full)
        if value is not None and av.type_of(value) != wanted:
            raise _error(WRONG_TYPE)
        return value

    # -- ADD / DELETE --
    def add_delete_value(self, action: _Action):
        operand = value_of(action.node.value, self.values, self.label)
        current = get_path(self.item, action.key) if _writable(self.item, action.key) else None
        return operand, current

    def check_add_delete(self, action: _Action) -> None:
        operand, current = self.add_delete_value(action)
        if current is None:
            return
        t, ct = av.type_of(operand), av.type_of(current)
        if t != ct:
            raise _error(WRONG_TYPE)
        if action.keyword == "ADD" and t == "N":
            av.add_numbers(current["N"], operand["N"])   # raises when out of range

    # -- the whole update --
    def run(self):
        acts = self.actions
        for a in acts:
            if len(a.key) > 1:
                parent = get_path(self.item, a.key[:-1])
                if parent is not None and not _fits(parent, a.key[-1]):
                    raise _error(INVALID_PATH)
        for a in acts:
            if a.keyword == "SET":
                self.set_value(a.node.value, full=False)
            elif a.keyword in ("ADD", "DELETE"):
                self.check_add_delete(a)
        for clause in sorted({a.clause for a in acts}, reverse=True):
            in_clause = [a for a in acts if a.clause == clause]
            for a in in_clause:
                if not _writable(self.item, a.key):
                    raise _error(INVALID_PATH)
            for a in in_clause:
                if a.keyword == "SET":
                    a.value = self.set_value(a.node.value, full=True)
        for a in acts:
            if a.keyword == "SET" and isinstance(a.value.get("N"), av.Decimal):
                a.value = {"N": av.format_number(av.check_number(a.value["N"]))}
        return self.write()

    def write(self):
        writes = []
        for a in self.actions:
            if a.keyword == "SET":
                writes.append((a.key, av.clone(a.value)))
            elif a.keyword == "REMOVE":
                writes.append((a.key, None))
            else:
                operand, current = self.add_delete_value(a)
                if a.keyword == "ADD":
                    if current is None:
                        new = av.clone(operand)
                    elif "N" in operand:
                        new = {"N": av.add_numbers(current["N"], operand["N"])}
                    else:
                        new = av.set_union(current, operand)
                    writes.append((a.key, new))
                elif current is not None:
                    new = av.set_difference(current, operand)
                    writes.append((a.key, new if new[av.type_of(new)] else None))
        out = av.clone(self.item)
        list_ops: dict[int, tuple[list, list]] = {}
        for key, new in writes:
            if len(key) == 1:
                if new is None:
                    out.pop(key[0], None)
                else:
                    out[key[0]] = new
                continue
            parent = get_path(out, key[:-1])
            if "M" in parent:
                if new is None:
                    parent["M"].pop(key[-1], None)
                else:
                    parent["M"][key[-1]] = new
            else:
                # Applied last, against the old positions (see module doc).
                list_ops.setdefault(id(parent["L"]), (parent["L"], []))[1].append((key[-1], new))
        for lst, ops in list_ops.values():
            old = list(lst)
            removed, appended = set(), []
            for index, new in ops:
                if new is None:
                    if index < len(old):
                        removed.add(index)
                elif index < len(old):
                    old[index] = new
                else:
                    appended.append((index, new))
            appended.sort(key=lambda pair: pair[0])
            lst[:] = [x for i, x in enumerate(old) if i not in removed] + [v for _, v in appended]
        return out


def updated_paths(ast: Update, names=None) -> list[tuple[str, tuple]]:
    """(keyword, resolved path) of every action, in written order; e.g. for
    refusing updates of key attributes before applying."""
    return [(keyword, resolve_path(action.path, names, ast.label)) for keyword, action in ast.actions()]


def apply_update(ast: Update, item: dict | None, names=None, values=None, *, updated: bool = True):
    """Apply a parsed UpdateExpression to ``item`` (not modified; None or {}
    for an item that doesn't exist yet — the caller adds its key attributes).

    Returns ``(new_item, updated_old, updated_new)``: the updated item, and for
    ReturnValues UPDATED_OLD / UPDATED_NEW the updated paths as they were
    before and are after (only the touched fragments: ``SET a.b = :v`` gives
    ``{"a": {"M": {"b": ...}}}``; REMOVEd paths and SETs past the end of a list
    don't appear in updated_new), as AWS returns them. With ``updated=False``
    those two are None (not computed)."""
    item = item or {}
    updater = _Updater(ast, item, names, values)
    new_item = updater.run()
    if not updated:
        return new_item, None, None
    all_paths = [a.key for a in updater.actions]
    kept_paths = [a.key for a in updater.actions if not isinstance(a.node, RemoveAction)]
    return new_item, project(item, all_paths), project(new_item, kept_paths)


__all__ = ["apply_update", "updated_paths", "INVALID_PATH", "WRONG_TYPE", "MISSING"]
