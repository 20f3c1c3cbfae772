"""Schema-driven tests of the fake server from its own ``/openapi.json`` (``tox -e schema``)."""
