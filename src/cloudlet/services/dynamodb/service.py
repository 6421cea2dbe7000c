"""The DynamoDB ``Service`` object; handler modules register on it."""

from cloudlet.services.base import Service

service = Service("dynamodb", error_type_prefix="com.amazonaws.dynamodb.v20120810#")
