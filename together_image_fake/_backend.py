"""``FakeTogether``: a small façade over the fake's state and the responder that answers.

``handle(FakeRequest) -> FakeResponse`` is the entry point of every host; it goes through the one
route table (``_routes``) to the *responder* (``ImageGenerator`` by default: validate, apply
faults, render; or a cassette player, or an upstream proxy) and to the control API, both working
on the fake's ``FakeState`` (faults, call log, rate windows, account). The façade's other methods
are that state's public face. In-process interception (``start``/``stop``, ``with``, decorators)
is delegated to ``_activation``, which loads the adapters: nothing here knows which host called.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from together_image_fake import _routes
from together_image_fake._activation import Interception, decorate
from together_image_fake._calls import FakeCall
from together_image_fake._catalog import Catalog, ModelSpec
from together_image_fake._errors import FakeAPIError
from together_image_fake._images import (
    DEFAULT_MAX_CONCURRENT_RENDERS,
    DEFAULT_UNSAFE_TERMS,
    AccountTexts,
    ImageGenerator,
    RateLimitMode,
)
from together_image_fake._routes import Responder
from together_image_fake._state import FakeState, Fault, FaultKind
from together_image_fake._validate import RemoteImagePolicy, decode_input_image
from together_image_fake._wire import FakeRequest, FakeResponse

if TYPE_CHECKING:
    from together_image_fake._replay import CassettePlayer

    pass

__all__ = [
    "DEFAULT_UNSAFE_TERMS",
    "FakeCall",
    "FakeTogether",
    "Fault",
]

T = TypeVar("T")


class FakeTogether:
    """A faithful fake of Together AI's image endpoint.

    Use it as a context manager or decorator (of a function, or of a ``unittest.TestCase`` class:
    each test method then runs with it) to intercept ``requests`` (and httpx, with its adapter)
    in-process, or hand it to ``FakeTogetherServer`` or ``make_wsgi_app`` to serve it over HTTP.
    Every host calls ``handle()``. What answers the API routes is the *responder*: by default an
    ``ImageGenerator`` built from the options below; a cassette player or an upstream proxy
    otherwise (``CassettePlayer``, ``TogetherProxy``).

    Args:
        seed: Makes ids, URLs, seeds and images reproducible; ``None`` draws fresh ones like the
            real API.
        api_keys: Accepted API keys; ``None`` accepts any non-empty bearer key.
        strict: ``False`` skips every rule tagged [INF] in the catalog and validation.
        models: ``None`` for the full catalog, or model ids to keep and/or ``ModelSpec``s to add.
        tier: The account's build tier (1–5); models above it answer 403 ``request_blocked``.
        credit: Dollars of credit; ``None`` is unlimited. At zero or below, calls answer 402.
        clock: Returns the current Unix time in seconds (rate limits and timestamps use it).
        sleep: Sleeps for injected latency (in-process mode).
        base_urls: Extra base URLs to intercept in-process (besides api.together.xyz/ai ``/v1``).
        rate_limits: ``"model"`` enforces the catalog's model-specific limits, ``"all"`` adds the
            tier's account-wide limit, ``"off"`` disables both.
        ratelimit_headers: Send the ``X-Ratelimit-*`` headers seen until 2026-04 [REC].
        type_field: Add ``"type"`` to each ``data`` item (declared by the spec, absent in real URL
            answers [REC]).
        unsafe_terms: Prompt words that trip the safety checker (422).
        remote_images: For an unregistered ``http(s)`` ``image_url``: ``"record"`` it as given, or
            ``"reject"`` it with 400.
        serve_retired: Also serve the models the real API has retired (``retired`` holds the date
            in ``together_image.models``: FLUX.1 [dev], Schnell Free, Kontext [dev]…, recorded
            until 2026). ``False`` (the default) answers them as the real API does now: 400
            "non-serverless model" for open weights it keeps for dedicated endpoints, 404
            ``model_not_available`` for the rest.
        account_texts: The wording of the account errors: ``"2026"`` (the default) or
            ``"2025"`` for the 402 credit-limit text quoted in 2025 (recordings of that era).
        max_calls: How many calls the log keeps.
        max_image_bytes: How many bytes of images the log keeps (oldest dropped first).
        image_cache_bytes: Size of the rendered-image cache.
        max_concurrent_renders: How many image requests render at once (others wait); by
            default one per CPU, at most 4. Memory under load then stays bounded (48 concurrent
            3072² ``n=4`` PNG requests: about 0.6 GB peak, the log's images included).
        responder: What answers the API routes instead of the image generator (the generator
            options above then do not apply).
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        api_keys: Iterable[str] | None = None,
        strict: bool = True,
        models: Iterable[str | ModelSpec] | None = None,
        tier: int = 5,
        credit: float | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        base_urls: Sequence[str] = (),
        rate_limits: RateLimitMode = "model",
        ratelimit_headers: bool = False,
        type_field: bool = False,
        unsafe_terms: Iterable[str] = DEFAULT_UNSAFE_TERMS,
        remote_images: RemoteImagePolicy = "record",
        serve_retired: bool = False,
        account_texts: AccountTexts = "2026",
        max_calls: int = 10_000,
        max_image_bytes: int = 256 * 1024 * 1024,
        image_cache_bytes: int = 64 * 1024 * 1024,
        max_concurrent_renders: int = DEFAULT_MAX_CONCURRENT_RENDERS,
        responder: Responder | None = None,
    ) -> None:
        clock = clock or time.time
        self.seed = seed
        self.strict = strict
        self.api_keys = frozenset(api_keys) if api_keys is not None else None
        self.state = FakeState(
            seed=seed,
            catalog=Catalog.build(models),
            tier=tier,
            credit=credit,
            clock=clock,
            max_calls=max_calls,
            max_image_bytes=max_image_bytes,
        )
        self.responder: Responder = responder or ImageGenerator(
            seed=seed,
            api_keys=self.api_keys,
            strict=strict,
            rate_limits=rate_limits,
            ratelimit_headers=ratelimit_headers,
            type_field=type_field,
            unsafe_terms=unsafe_terms,
            remote_images=remote_images,
            serve_retired=serve_retired,
            account_texts=account_texts,
            clock=clock,
            image_cache_bytes=image_cache_bytes,
            max_concurrent_renders=max_concurrent_renders,
        )
        self.max_concurrent_renders = max_concurrent_renders
        self._sleep = sleep or time.sleep
        self._interception = Interception(self, base_urls)

    @classmethod
    def from_cassette(cls, path: str | Path, **options: Any) -> CassettePlayer:
        """A fake that answers from a recorded cassette instead of validating and rendering.

        Args:
            path: The cassette file.
            **options: ``CassettePlayer`` options: ``ignore=("seed",)``, ``allow_repeats``,
                ``on_mismatch``, ``rewrite_urls``; ``base_urls`` and ``sleep`` for the fake.

        Returns:
            A ``CassettePlayer`` (a ``FakeTogether`` whose responder replays the cassette): use it
            in-process or serve it with ``FakeTogetherServer(fake=...)``.
        """
        # Resolved through the package's public names: the backend imports no responder module.
        from together_image_fake import CassettePlayer

        return CassettePlayer(path, **options)

    # ---- the entry point -----------------------------------------------------------------------

    def handle(self, request: FakeRequest) -> FakeResponse:
        """Answer one request exactly as the real API would (the entry point of every host).

        Args:
            request: The normalised request.

        Returns:
            The response (possibly a connection-level fault for the host to carry out).
        """
        return _routes.dispatch(self, request)

    def sleep(self, seconds: float) -> None:
        """Carry out injected latency with the configured sleep function (in-process hosts)."""
        if seconds > 0:
            self._sleep(seconds)

    # ---- state -----------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget calls, faults, rate-limit windows, remote images and registered models (and
        what the responder remembers, e.g. which interactions a cassette player has played).

        The tier and credit go back to the values given at construction.
        """
        self.state.reset()
        self.responder.reset()

    @property
    def calls(self) -> list[FakeCall]:
        """The call log, oldest first."""
        return self.state.calls

    def find_call(self, seq: int) -> FakeCall | None:
        """Return the logged call ``seq``, or ``None`` once evicted."""
        return self.state.find_call(seq)

    @property
    def catalog(self) -> Catalog:
        """The models currently served."""
        return self.state.catalog

    @property
    def tier(self) -> int:
        """The account's build tier."""
        return self.state.tier

    @property
    def credit(self) -> float | None:
        """Remaining credit in dollars (``None``: unlimited)."""
        return self.state.credit

    @property
    def max_calls(self) -> int:
        """How many calls the log keeps."""
        return self.state.max_calls

    @property
    def max_image_bytes(self) -> int:
        """How many bytes of images the log keeps (oldest dropped first)."""
        return self.state.max_image_bytes

    @max_image_bytes.setter
    def max_image_bytes(self, value: int) -> None:
        self.state.max_image_bytes = value

    @property
    def base_urls(self) -> tuple[str, ...]:
        """Extra base URLs intercepted in-process."""
        return self._interception.base_urls

    def set_tier(self, tier: int) -> None:
        """Set the account's build tier (1–5); models needing a higher tier answer 403."""
        self.state.set_tier(tier)

    def set_credit(self, dollars: float | None) -> None:
        """Set the remaining credit; ``None`` is unlimited, ``<= 0`` makes image calls 402."""
        self.state.set_credit(dollars)

    def register_model(
        self, model: ModelSpec | str, *, like: str | None = None, **rules: object
    ) -> ModelSpec:
        """Add a model or override rules of one.

        Args:
            model: A full ``ModelSpec``, or a model id.
            like: For an id not in the catalog: the catalog model to copy (default FLUX.1-schnell).
            **rules: Rule overrides (``ModelSpec`` field names), as ``Rule`` objects or bare values.

        Returns:
            The spec now served for that id.

        Raises:
            ValueError: If ``like`` is unknown or a rule name is not a ``ModelSpec`` field.
        """
        return self.state.register_model(model, like=like, rules=rules)

    def add_remote_image(self, url: str, data: bytes) -> None:
        """Register the image an ``http(s)`` ``image_url`` points at (the fake never downloads).

        Raises:
            ValueError: If ``url`` is not http(s) or ``data`` is not a PNG/JPEG/WebP/GIF image.
        """
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"Expected an http(s) URL, got {url!r}")
        try:
            decode_input_image(data)
        except FakeAPIError as error:
            raise ValueError(error.message) from error
        self.state.add_remote_image(url, data)

    def fail_next(
        self,
        status: int | None = None,
        *,
        error: str | None = None,
        latency_s: float = 0.0,
        kind: FaultKind | None = None,
        times: int = 1,
        model: str | None = None,
    ) -> Fault:
        """Queue a fault for the next image request(s); faults apply in the order queued.

        Args:
            status: Status to answer with (a usual error body for it), or the HTML page's status.
            error: A named real error: one of ``NAMED_ERRORS``.
            latency_s: Delay before answering.
            kind: ``"reset"``, ``"timeout"`` or ``"html"``.
            times: How many requests it hits.
            model: Only requests for this model.

        Returns:
            The queued fault.

        Raises:
            ValueError: For an invalid combination (see ``Fault``).
        """
        fault = Fault(
            status=status, error=error, latency_s=latency_s, kind=kind, times=times, model=model
        )
        self.state.queue_faults([fault])
        return fault

    def queue_faults(self, faults: Iterable[Fault]) -> int:
        """Queue several faults; return how many were queued."""
        return self.state.queue_faults(faults)

    def pending_faults(self) -> list[Fault]:
        """Return the queued faults, each with ``times`` set to what remains."""
        return self.state.pending_faults()

    # ---- in-process interception -----------------------------------------------------------------

    def start(self) -> None:
        """Start intercepting in this process (``requests``; httpx when its adapter is available).

        Raises:
            RuntimeError: If already started.
        """
        self._interception.start()

    def stop(self) -> None:
        """Stop this fake's interception (no-op when not started); other fakes keep theirs."""
        self._interception.stop()
        self.responder.close()

    def __enter__(self) -> FakeTogether:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __call__(self, target: T) -> T:
        """Decorate a function (it runs with this fake intercepting) or a class (each ``test*``
        method does, as ``unittest.mock.patch`` decorates a ``TestCase``)."""
        return decorate(self, target)

    def __repr__(self) -> str:
        keys = "any" if self.api_keys is None else f"{len(self.api_keys)} keys"
        return (
            f"FakeTogether(seed={self.seed!r}, strict={self.strict}, api_keys=<{keys}>, "
            f"models={len(self.catalog.models)}, calls={len(self.calls)})"
        )
