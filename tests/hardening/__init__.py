"""Hardening tests: fuzzing the server and the client, OpenAPI, load, faults and secrets."""
