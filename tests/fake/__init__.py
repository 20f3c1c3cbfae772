"""Unit and property tests of the fake's backend modules."""
