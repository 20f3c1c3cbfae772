"""Suite-wide settings: Hypothesis profiles ("ci" under CI, "dev" otherwise), host selection."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=40, deadline=None)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


# The fixtures whose parameter is the host a behavioural test runs in, and the hosts' names.
_HOST_FIXTURES = ("api", "replay_mode")
_HOSTS = frozenset({"inprocess", "server", "wsgi"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run host-parametrized tests in the hosts ``TOGETHER_IMAGE_TEST_HOSTS`` names (all if unset).

    Only ``tox -e mutate`` sets it (to ``inprocess``): a mutant of a rule module behaves the same
    in every host, so running it once per host would triple the run for nothing. Every other run,
    CI included, runs every host.
    """
    hosts = os.environ.get("TOGETHER_IMAGE_TEST_HOSTS")
    if not hosts:
        return
    allowed = set(hosts.split(","))
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec is not None else {}
        hosts_of_item = {params.get(name) for name in _HOST_FIXTURES} & _HOSTS
        (dropped if hosts_of_item - allowed else keep).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
