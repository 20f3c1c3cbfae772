"""Retry policy: which failures are retried, how long to wait, and the retry loop itself.

The rules follow Together's official SDKs [SDK]: statuses 408, 409, 429 and >= 500 and connection
failures are retryable; ``x-should-retry: true|false`` overrides the status; the wait is
``retry-after-ms``, else ``retry-after`` (seconds or an HTTP date) when it is 0-60 s, else an
exponential backoff (2 s, then 4 s... as in the AI SDK). An answer without images
(``NoImageGeneratedError``) is retried too, as the AI SDK 7 does [SDK ai 7.0.173]. The loop
reproduces the AI SDK's ``retryWithExponentialBackoff`` (unwrapped first non-retryable error,
``RetryError`` otherwise); an abort signal ends a wait at once and is never retried. Sleep and
clock are injected, so tests never wait.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from ._errors import (
    AbortError,
    APICallError,
    NoImageGeneratedError,
    RetryError,
    TogetherImageError,
)
from ._types import AbortSignal

T = TypeVar("T")

RETRYABLE_STATUSES = frozenset({408, 409, 429})


def is_retryable_response(status_code: int, headers: Mapping[str, str]) -> bool:
    """Decide whether an HTTP error response may be retried.

    Args:
        status_code: The response status.
        headers: Response headers with lower-cased names.

    Returns:
        ``x-should-retry`` when it is ``true`` or ``false``; else whether the status is 408, 409,
        429 or >= 500.
    """
    should_retry = str(headers.get("x-should-retry")).strip().lower()  # absent: "none"
    if should_retry in ("true", "false"):
        return should_retry == "true"
    return status_code in RETRYABLE_STATUSES or status_code >= 500


def retry_after_seconds(headers: Mapping[str, str], now: float) -> float | None:
    """Read the server's requested wait from ``retry-after-ms`` or ``retry-after``.

    Args:
        headers: Response headers with lower-cased names.
        now: The current time (seconds since the epoch), for HTTP-date values.

    Returns:
        The wait in seconds, or ``None`` when neither header holds a finite number or a date.
    """
    milliseconds = _finite_float(headers.get("retry-after-ms"))
    if milliseconds is not None:
        return milliseconds / 1000
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _finite_float(value)
    if seconds is not None:
        return seconds
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return moment.timestamp() - now


def _finite_float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How many times and how long to retry one call.

    Attributes:
        max_retries: Retries after the first attempt (0 disables retrying).
        initial_delay: Seconds before the first retry when the server gives no usable hint.
        backoff_factor: Multiplier of that delay for each further retry.
        max_retry_after: Longest server-requested wait (seconds) that is honoured; longer or
            negative hints fall back to the backoff delay.
    """

    max_retries: int = 2
    initial_delay: float = 2.0
    backoff_factor: float = 2.0
    max_retry_after: float = 60.0

    def should_retry(self, error: TogetherImageError) -> bool:
        """Tell whether ``error`` is worth another attempt.

        Args:
            error: The failure of one attempt.

        Returns:
            ``error.is_retryable`` for API call errors; ``True`` for an answer without images (the
            AI SDK retries those too); ``False`` for anything else.
        """
        if isinstance(error, NoImageGeneratedError):
            return True
        return isinstance(error, APICallError) and error.is_retryable

    def delay(self, error: TogetherImageError, retry_number: int, now: float) -> float:
        """Compute the wait before retry number ``retry_number`` (1-based).

        Args:
            error: The failure that is being retried.
            retry_number: 1 for the first retry, 2 for the second...
            now: The current time (seconds since the epoch).

        Returns:
            The server's hint when it lies in ``[0, max_retry_after]``, else
            ``initial_delay * backoff_factor ** (retry_number - 1)``.
        """
        backoff = self.initial_delay * self.backoff_factor ** (retry_number - 1)
        if isinstance(error, APICallError):
            hint = retry_after_seconds(error.response_headers, now)
            if hint is not None and 0 <= hint <= self.max_retry_after:
                return hint
        return backoff


def run_with_retries(
    call: Callable[[], T],
    *,
    policy: RetryPolicy,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] = time.time,
    abort_signal: AbortSignal | None = None,
) -> T:
    """Run ``call`` until it succeeds or the policy gives up.

    Only ``TogetherImageError``s are caught; anything else is a bug and propagates at once.

    Args:
        call: One attempt (e.g. one HTTP request).
        policy: The retry policy.
        sleep: Called with the wait in seconds between attempts; ``None`` waits for real (on the
            abort signal when there is one, so that setting it ends the wait at once).
        clock: Returns the current time, for HTTP-date ``retry-after`` values.
        abort_signal: Checked before every attempt and after every wait.

    Returns:
        What the first successful attempt returned.

    Raises:
        AbortError: ``abort_signal`` was set (never retried nor wrapped).
        TogetherImageError: The first error unwrapped when ``max_retries`` is 0 or the first attempt
            failed with a non-retryable error.
        RetryError: ``reason="max_retries_exceeded"`` after ``max_retries + 1`` failed attempts, or
            ``reason="error_not_retryable"`` when a later attempt failed for good.
    """
    errors: list[TogetherImageError] = []
    while True:
        if abort_signal is not None and abort_signal.is_set():
            raise AbortError(
                "The call was aborted: abort_signal was set"
                + (f" after {len(errors)} failed attempts." if errors else " before it was sent.")
            )
        try:
            return call()
        except AbortError:
            raise
        except TogetherImageError as error:
            if policy.max_retries == 0:
                raise
            errors.append(error)
            attempts = len(errors)
            if attempts > policy.max_retries:
                raise RetryError(
                    f"Failed after {attempts} attempts. Last error: {_describe(error)}",
                    reason="max_retries_exceeded",
                    errors=errors,
                ) from error
            if policy.should_retry(error):
                _wait(policy.delay(error, attempts, clock()), sleep, abort_signal)
                continue
            if attempts == 1:
                raise
            raise RetryError(
                f"Failed after {attempts} attempts with non-retryable error: '{_describe(error)}'",
                reason="error_not_retryable",
                errors=errors,
            ) from error


def _wait(
    seconds: float, sleep: Callable[[float], None] | None, abort_signal: AbortSignal | None
) -> None:
    if sleep is not None:
        sleep(seconds)
    elif abort_signal is not None:
        abort_signal.wait(seconds)
    else:
        time.sleep(seconds)
    if abort_signal is not None and abort_signal.is_set():
        raise AbortError(f"The call was aborted while waiting {seconds:g} s before a retry.")


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"
