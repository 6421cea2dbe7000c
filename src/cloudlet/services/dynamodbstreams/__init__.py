"""DynamoDB Streams: ListStreams, DescribeStream, GetShardIterator, GetRecords.

The streams and their records are written by DynamoDB itself, in the store
transaction of each item change (``dynamodb/store.py``, "streams"); the tables'
background work settles their status and trims them (``dynamodb/background.py``).
This package only reads them: ``streams`` (ListStreams, DescribeStream) and
``records`` (GetShardIterator, GetRecords); ``common`` names streams and their
trim points, ``errors`` has the texts. Importing it registers the handlers.
"""

from cloudlet.services.dynamodbstreams.service import service
from cloudlet.services.dynamodbstreams import records, streams  # noqa: F401  (importing registers the handlers)

__all__ = ["service"]
