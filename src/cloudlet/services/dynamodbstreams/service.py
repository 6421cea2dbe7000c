"""The DynamoDB Streams ``Service`` object (botocore "dynamodbstreams"); handler modules register on it."""

from cloudlet.services.base import Service

# Streams answers from DynamoDB's front end: the same error type namespace.
service = Service("dynamodbstreams", error_type_prefix="com.amazonaws.dynamodb.v20120810#")
