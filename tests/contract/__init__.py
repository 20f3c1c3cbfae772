"""Behavioural contract tests of the fake, run in every fake mode through one fixture."""
