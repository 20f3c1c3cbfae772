"""Raw HTTP/1.1 over a loopback socket: send exact bytes, parse every answer that comes back.

The fuzz tests need to send what no HTTP library would (bad framing, invalid UTF-8, truncated
requests), so they talk to the server through a bare socket and parse the answers themselves.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field
from typing import Any

JSON_UTF8 = "application/json; charset=utf-8"


@dataclass(frozen=True, kw_only=True)
class RawResponse:
    """One parsed HTTP response.

    Attributes:
        status: The status code.
        headers: Header names lower-cased (repeated headers joined with ``", "``).
        body: The body, de-chunked.
    """

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


def request_bytes(
    method: str = "POST",
    target: str = "/v1/images/generations",
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    version: str = "HTTP/1.1",
) -> bytes:
    """Build a request with ``Host``, a bearer key, a JSON content type and the right length.

    ``headers`` replaces the defaults entirely when given (pass exactly what you want to send).
    """
    if headers is None:
        headers = {
            "Host": "127.0.0.1",
            "Authorization": "Bearer tgp_v1_fuzz-key",
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
        }
    head = f"{method} {target} {version}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return head.encode("utf-8") + b"\r\n" + body


def exchange(
    port: int, data: bytes, *, timeout: float = 10.0, half_close: bool = True
) -> list[RawResponse]:
    """Send ``data`` and parse every response until the server closes (or resets) the connection.

    Args:
        port: The loopback port.
        data: The exact bytes to send.
        timeout: Socket timeout in seconds.
        half_close: Close our sending side after ``data``, so the server sees the end of input
            (send ``Connection: close`` instead when the server must not think the client left).

    Raises:
        ValueError: The server sent bytes that are not well-formed HTTP/1.1 responses.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(data)
        if half_close:
            conn.shutdown(socket.SHUT_WR)
        received = bytearray()
        try:
            while chunk := conn.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass  # a reset ends the exchange; whatever arrived before it is still parsed
    return parse_responses(bytes(received))


def parse_responses(data: bytes) -> list[RawResponse]:
    """Parse back-to-back HTTP/1.1 responses (``Content-Length`` or chunked bodies)."""
    responses: list[RawResponse] = []
    rest = data
    while rest:
        head, separator, rest = rest.partition(b"\r\n\r\n")
        if not separator:
            raise ValueError(f"incomplete response head: {head[:200]!r}")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        version, status, *_ = status_line.split(" ", 2)
        if version != "HTTP/1.1" or not status.isdigit():
            raise ValueError(f"bad status line {status_line!r}")
        headers: dict[str, str] = {}
        for line in header_lines:
            name, colon, value = line.partition(":")
            if not colon:
                raise ValueError(f"bad header line {line!r}")
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body, rest = _dechunk(rest)
        else:
            length = int(headers.get("content-length", "0"))
            if len(rest) < length:
                raise ValueError(f"body shorter than Content-Length {length}: {len(rest)} bytes")
            body, rest = rest[:length], rest[length:]
        responses.append(RawResponse(status=int(status), headers=headers, body=body))
    return responses


def _dechunk(data: bytes) -> tuple[bytes, bytes]:
    body = bytearray()
    while True:
        size_line, separator, data = data.partition(b"\r\n")
        if not separator:
            raise ValueError("truncated chunked body")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            trailer, separator, data = data.partition(b"\r\n")
            if not separator or trailer:
                raise ValueError("chunked body without its final empty line")
            return bytes(body), data
        body += data[:size]
        if data[size : size + 2] != b"\r\n":
            raise ValueError("chunk not followed by CRLF")
        data = data[size + 2 :]


def assert_real_error(response: RawResponse) -> dict[str, Any]:
    """Check the real error shape (pretty JSON, ``id`` then ``error{message,type,param,code}``).

    Returns:
        The ``error`` object.
    """
    assert response.headers.get("content-type") == JSON_UTF8, response.headers
    payload = response.json()
    assert list(payload) == ["id", "error"], payload
    error: dict[str, Any] = payload["error"]
    assert list(error) == ["message", "type", "param", "code"], error
    assert isinstance(error["message"], str)
    assert isinstance(error["type"], str)
    assert response.body == _pretty(payload)
    return error


def _pretty(payload: Any) -> bytes:
    # As the fake writes bodies: raw UTF-8, or escapes when a lone surrogate cannot be encoded.
    try:
        return json.dumps(payload, indent=2, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(payload, indent=2).encode("ascii")
