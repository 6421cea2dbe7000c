"""DynamoDB's expression language: one tokenizer, one recursive-descent parser
producing an immutable AST, one evaluator.

Typical use in an operation handler::

    parsed = check_request_expressions(request)        # all expressions, AWS's order,
                                                       # incl. unused placeholders
    names = request.get("ExpressionAttributeNames")
    values = request.get("ExpressionAttributeValues")
    if "ConditionExpression" in parsed and not evaluate_condition(
            parsed["ConditionExpression"], old_item, names, values):
        raise ConditionalCheckFailed
    new_item, updated_old, updated_new = apply_update(parsed["UpdateExpression"], old_item, names, values)
    key = parse_key_condition(request["KeyConditionExpression"], names, values, key_schema, attribute_types)
    shown = project(item, parsed["ProjectionExpression"], names)

Items are the wire form ``{name: {"S": "x"}}`` (B as bytes). Every error is a
``cloudlet.protocol.errors.ValidationException`` carrying AWS's message.
"""

from cloudlet.services.dynamodb.expressions.evaluator import (
    evaluate_condition, get_path, project, projection_paths,
)
from cloudlet.services.dynamodb.expressions.keycond import (
    KeyCondition, check_filter_keys, parse_key_condition, range_matches,
)
from cloudlet.services.dynamodb.expressions.parser import (
    CONDITION, FILTER, KEY_CONDITION, PROJECTION, UPDATE, parse_condition_expression, parse_expression,
    parse_filter_expression, parse_key_condition_expression, parse_projection_expression,
    parse_update_expression,
)
from cloudlet.services.dynamodb.expressions.reserved import RESERVED_WORDS, is_reserved
from cloudlet.services.dynamodb.expressions.update import apply_update, updated_paths
from cloudlet.services.dynamodb.expressions.validate import (
    Usage, check_expressions, check_placeholder_maps, check_request_expressions, check_unused,
    resolve_path, validate_expression,
)

__all__ = [
    "CONDITION", "FILTER", "KEY_CONDITION", "PROJECTION", "UPDATE",
    "parse_expression", "parse_condition_expression", "parse_filter_expression",
    "parse_key_condition_expression", "parse_update_expression", "parse_projection_expression",
    "validate_expression", "check_request_expressions", "check_expressions", "check_placeholder_maps",
    "check_unused", "Usage", "resolve_path",
    "evaluate_condition", "apply_update", "updated_paths", "project", "projection_paths", "get_path",
    "parse_key_condition", "KeyCondition", "range_matches", "check_filter_keys",
    "RESERVED_WORDS", "is_reserved",
]
