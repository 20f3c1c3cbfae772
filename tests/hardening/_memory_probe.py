"""Run the memory-under-churn measurement in a clean process and print its figures as JSON.

``test_memory_is_flat_once_the_bounded_log_and_cache_are_full`` starts this with
``python -m hardening._memory_probe`` from ``tests/``, so the readings see only the fake.
"""

from __future__ import annotations

import json

from hardening.test_load import measure_memory_under_churn

if __name__ == "__main__":
    print(json.dumps(measure_memory_under_churn()))
