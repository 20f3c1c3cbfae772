"""Tests of the shipped Hypothesis strategies and their entry-point hook."""
