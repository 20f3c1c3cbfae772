"""A minimal headless-Chromium driver for the dashboard tests: the DevTools protocol over a pipe.

Chromium started with ``--remote-debugging-pipe`` reads protocol commands from file descriptor 3 and
writes answers and events to descriptor 4, each message a JSON object ended by a NUL byte. Speaking
that directly needs only the standard library: no websocket client, no chromedriver, no free port.
The driver keeps what the tests need: open a page, evaluate JavaScript, wait for a condition, click
like a user, take a screenshot, and record the page's uncaught exceptions and request URLs.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")

# Flags that keep a headless run offline, quiet and isolated (a fresh profile per browser).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
)

_RENUMBER_AND_EXEC = (
    "import os, sys\n"
    "read_fd, write_fd = int(sys.argv[1]), int(sys.argv[2])\n"
    "os.dup2(read_fd, 3)\n"
    "os.dup2(write_fd, 4)\n"
    "os.close(read_fd)\n"
    "os.close(write_fd)\n"
    "os.execv(sys.argv[3], sys.argv[3:])\n"
)


class BrowserError(RuntimeError):
    """The browser answered a command with an error, died, or a wait ran out of time."""


class Browser:
    """One headless Chromium process driven over the DevTools pipe.

    Args:
        profile_dir: A fresh, empty directory for ``--user-data-dir``.
        executable: The Chromium binary or launcher script.
    """

    def __init__(self, profile_dir: Path, executable: Path = CHROMIUM) -> None:
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()
        # The child must see the pipe ends as fds 3 and 4, but subprocess keeps fd numbers as they
        # are, so a tiny Python trampoline renumbers them before exec'ing Chromium (dash cannot name
        # fds above 9). Moving them above 9 first keeps the renumbering collision-free.
        child_read = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD_CLOEXEC, 10)
        child_write = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD_CLOEXEC, 10)
        for fd in (to_browser_r, from_browser_w):
            os.close(fd)
        self._log_path = profile_dir.parent / f"{profile_dir.name}-chromium.log"
        with self._log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _RENUMBER_AND_EXEC,
                    str(child_read),
                    str(child_write),
                    str(executable),
                    *CHROMIUM_FLAGS,
                    f"--user-data-dir={profile_dir}",
                    "about:blank",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(child_read, child_write),
            )
        os.close(child_read)
        os.close(child_write)
        self._write_fd = to_browser_w
        self._read_fd = from_browser_r
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        session_id: str | None = None,
        timeout_s: float = 15.0,
    ) -> dict[str, Any]:
        """Send one protocol command and return its ``result``; events met meanwhile are kept."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session_id is not None:
            message["sessionId"] = session_id
        os.write(self._write_fd, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout_s
        while True:
            reply = self._read_message(deadline, waiting_for=method)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method} failed: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    def _read_message(self, deadline: float, *, waiting_for: str) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrowserError(f"no answer to {waiting_for} in time; log: {self.log_tail()}")
            ready, _, _ = select.select([self._read_fd], [], [], remaining)
            if ready:
                chunk = os.read(self._read_fd, 1 << 20)
                if not chunk:
                    raise BrowserError(f"Chromium exited; log: {self.log_tail()}")
                self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        message: dict[str, Any] = json.loads(raw)
        return message

    def log_tail(self) -> str:
        """Return the end of Chromium's own output, for failure messages."""
        return self._log_path.read_text(errors="replace")[-2000:]

    def new_page(self, *, width: int = 1280, height: int = 900) -> Page:
        """Open a tab of the given viewport size and attach to it."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})
        page = Page(self, session["sessionId"])
        page.call("Runtime.enable")
        page.call("Network.enable")
        page.call("Page.enable")
        page.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        return page

    def close(self) -> None:
        """Ask Chromium to quit, then make sure it has."""
        with contextlib.suppress(BrowserError, OSError):  # gone or wedged: the kill settles it
            self.send("Browser.close", timeout_s=5.0)
        try:
            self._process.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        os.close(self._write_fd)
        os.close(self._read_fd)


class Page:
    """One attached tab (a flat-mode DevTools session)."""

    def __init__(self, browser: Browser, session_id: str) -> None:
        self._browser = browser
        self._session_id = session_id

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a protocol command to this tab."""
        return self._browser.send(method, params, session_id=self._session_id)

    def navigate(self, url: str) -> None:
        """Load ``url`` and wait until the document has finished loading."""
        answer = self.call("Page.navigate", {"url": url})
        if answer.get("errorText"):
            raise BrowserError(f"navigating to {url} failed: {answer['errorText']}")
        self.wait_for("document.readyState === 'complete'")

    def evaluate(self, expression: str) -> Any:
        """Evaluate a JavaScript expression (promises awaited) and return its JSON value."""
        answer = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in answer:
            raise BrowserError(f"{expression!r} threw: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def wait_for(self, expression: str, *, timeout_s: float = 10.0) -> Any:
        """Poll ``expression`` until it is truthy and return its value."""
        deadline = time.monotonic() + timeout_s
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError(f"still falsy after {timeout_s} s: {expression} -> {value!r}")
            time.sleep(0.05)

    def click(self, selector: str) -> None:
        """Press and release the left mouse button over the centre of the first match."""
        box = self.evaluate(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
            ".getBoundingClientRect(); return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.call(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": box["x"], "y": box["y"], "button": "left", "clickCount": 1},
            )

    def screenshot(self, path: Path, *, full_page: bool = False) -> Path:
        """Save a PNG of the viewport (or the whole page) to ``path``."""
        answer = self.call(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": full_page}
        )
        path.write_bytes(base64.b64decode(answer["data"]))
        return path

    def exceptions(self) -> list[str]:
        """Return the uncaught JavaScript exceptions this tab reported so far."""
        return [
            json.dumps(event["params"]["exceptionDetails"])
            for event in self._own_events("Runtime.exceptionThrown")
        ]

    def requested_urls(self) -> list[str]:
        """Return every URL this tab requested so far, in order."""
        return [
            event["params"]["request"]["url"]
            for event in self._own_events("Network.requestWillBeSent")
        ]

    def _own_events(self, method: str) -> list[dict[str, Any]]:
        self.evaluate("0")  # a round trip collects the events Chromium sent before its answer
        return [
            event
            for event in self._browser.events
            if event.get("method") == method and event.get("sessionId") == self._session_id
        ]
