"""PartiQL for DynamoDB: ExecuteStatement, BatchExecuteStatement, ExecuteTransaction.

A statement is parsed once (``parser``, cached by text) into the AST of
DynamoDB's expression language plus value templates (``literals``); ``plan``
binds it to a request's parameters and a table's key schema; ``select`` reads
through Query/Scan's page loop, ``writes`` through the item write path and the
transaction code; ``handlers`` holds the three operations. Importing this
package registers them on ``service``.
"""

from cloudlet.services.dynamodb.partiql import handlers  # noqa: F401  (importing registers the handlers)
