"""botocore service models, loaded once per process.

The models installed with botocore are the source of truth for operation names,
shapes, required members, enums and documented limits.
"""

from __future__ import annotations

from functools import cache

from botocore.loaders import create_loader
from botocore.model import OperationModel, ServiceModel, Shape

_loader = create_loader()


@cache
def service_model(name: str) -> ServiceModel:
    return ServiceModel(_loader.load_service_model(name, "service-2"), service_name=name)


@cache
def operation_model(service: str, operation: str) -> OperationModel:
    return service_model(service).operation_model(operation)


def error_shape(service: str, code: str) -> Shape | None:
    """The model's shape for an error code, if the model declares one."""
    model = service_model(service)
    try:
        return model.shape_for(code)
    except Exception:  # noqa: BLE001 — botocore raises NoShapeFoundError
        return None
