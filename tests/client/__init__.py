"""Tests of the reference client ``together_image`` (a package so module names cannot clash)."""
