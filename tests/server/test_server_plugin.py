"""The ``together_fake_server`` pytest fixture: one server per session, state reset per test."""

from __future__ import annotations

import pytest


def test_fixture_shares_one_server_and_resets_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import requests

        seen = []

        def test_first(together_fake_server):
            reply = requests.get(
                together_fake_server.base_url + "/models",
                headers={"Authorization": "Bearer any-key"},
                timeout=5,
            )
            assert reply.status_code == 200
            assert len(together_fake_server.fake.calls) == 1
            together_fake_server.fake.fail_next(status=503)
            seen.append(together_fake_server)

        def test_second(together_fake_server):
            assert together_fake_server is seen[0]
            assert together_fake_server.fake.calls == []
            assert together_fake_server.fake.pending_faults() == []
            assert together_fake_server.base_url.startswith("http://127.0.0.1:")
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
