"""The load generator of measurement 8: a separate process sending image requests on command.

Run as ``python bench/_loadgen.py TEMPLATE_JSON`` (standard library only, so it starts fast and
shares nothing with the servers it loads). Each line ``HOST PORT COUNT`` on standard input sends
COUNT requests, one after another on one keep-alive ``http.client`` connection (reopened when a
server closes it), each with a prompt it has never sent before, then prints ``done ERRORS``.
End of input ends it. The servers' CPU is read in their own process, around each command.
"""

from __future__ import annotations

import http.client
import itertools
import json
import sys

HEADERS = {
    "Accept": "application/json",
    "Authorization": "Bearer bench-key",
    "Content-Type": "application/json",
    "User-Agent": "bench-loadgen",
}


def burst(host: str, port: int, count: int, template: dict[str, object], numbers: object) -> int:
    """Send ``count`` requests with new prompts; return how many failed or were not 200."""
    errors = 0
    connection = http.client.HTTPConnection(host, port, timeout=60)
    try:
        for _ in range(count):
            body = dict(template, prompt=f"{template['prompt']} #{next(numbers)}")  # type: ignore[call-overload]
            connection.request(
                "POST", "/v1/images/generations", body=json.dumps(body), headers=HEADERS
            )
            response = connection.getresponse()
            response.read()
            errors += response.status != 200
    finally:
        connection.close()
    return errors


def main() -> int:
    """Serve commands from standard input until it closes."""
    template = json.loads(sys.argv[1])
    numbers = itertools.count()
    for line in sys.stdin:
        host, port, count = line.split()
        try:
            errors = burst(host, int(port), int(count), template, numbers)
        except (OSError, http.client.HTTPException) as error:
            print(f"failed {type(error).__name__}: {error}", flush=True)
            continue
        print(f"done {errors}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
