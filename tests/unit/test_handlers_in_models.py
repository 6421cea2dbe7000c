"""Every handler a service registers names an operation of the botocore model the tests
run with (the gateway only warns, so a server on an older botocore still starts)."""

from __future__ import annotations

import pytest

from cloudlet.app import all_services
from cloudlet.protocol.model import service_model


@pytest.mark.parametrize("service", all_services(), ids=lambda s: s.name)
def test_every_handler_is_an_operation_of_the_model(service):
    assert set(service.handlers) - set(service_model(service.name).operation_names) == set()
