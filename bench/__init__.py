"""Benchmarks of together-image: the fake's cost against named baselines, side by side.

Run ``python -m bench`` (a few minutes) or ``python -m bench --quick`` (under a minute, what CI
runs). It prints one table row per measurement: the fake's median, the baseline's median, their
ratio and the goal for it.
"""
