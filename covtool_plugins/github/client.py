"""One way to talk to GitHub's REST API: a githubkit client made from a run's settings.

Everything that every GitHub call needs is decided here, once, so that the pull request's
files, its comment and its commit status behave alike:

* **endpoint** — ``github_endpoint``: ``https://api.github.com``, a ghproxy in front of it,
  or GitHub Enterprise (``https://ghe.example/api/v3``). Pagination links that point at
  another host (ghproxy relays GitHub's own) are rebased onto the endpoint, the way Prow's
  client does, so a token is only ever sent to the configured endpoint.
* **token** — read from the file ``github_token_path`` (Prow mounts secrets as files);
  none configured means anonymous. The token is never printed: every message is redacted.
* **retries** — server errors (5xx) and network faults are retried three times after 0.5,
  1 and 2 s. Rate limits (403/429 with ``x-ratelimit-remaining: 0``, ``retry-after``, or a
  secondary-limit message) are waited out while all the waiting of the run stays within
  ``github_max_wait`` seconds; beyond that the error says when the limit resets.
* **errors** — every githubkit or httpx failure becomes one ``ServiceError`` line naming
  the request (``GitHub GET /repos/o/r/pulls/5/files: 404 Not Found``) with a hint at the
  cause for 401, 403 and 404.
* **API version** — pinned to ``2022-11-28``, the version every GitHub Enterprise Server
  release with versioned APIs accepts (an unknown version is a 400 there).

githubkit is imported inside functions: ``import covtool`` stays fast.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import urlsplit

from covtool import Config, Run, ServiceError, UsageError, __version__

if TYPE_CHECKING:
    import httpx
    from githubkit import GitHub, Response
    from githubkit.exception import GitHubException, RequestError, RequestFailed
    from githubkit.typing import RetryOption

DEFAULT_ENDPOINT = "https://api.github.com"
#: The REST API version every request asks for (GitHub Enterprise knows no later one).
API_VERSION = "2022-11-28"
#: How often a server error or network fault is retried, and the first pause (doubling).
SERVER_RETRIES = 3
BACKOFF = 0.5
#: How often one request waits out a rate limit before giving up.
RATE_LIMIT_RETRIES = 3
#: Seconds GitHub asks a client to wait after a rate limit that names no reset time.
UNNAMED_RESET = 60.0
TIMEOUT = 30.0
#: githubkit sleeps 60 s for a zero wait; a wait is never shorter than this instead.
MIN_WAIT = 0.05

T = TypeVar("T")


# -- settings and token ---------------------------------------------------------------------
@dataclass(frozen=True)
class GitHubSettings:
    """Where GitHub is, which token file to read, and how long rate limits may be waited out."""

    endpoint: str = DEFAULT_ENDPOINT
    token_path: str = ""
    max_wait: float = 60.0

    @classmethod
    def from_config(cls, config: Config) -> GitHubSettings:
        """The settings ``github_endpoint``, ``github_token_path`` and ``github_max_wait``."""
        endpoint = str(config.get("github_endpoint") or DEFAULT_ENDPOINT).strip()
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(
                f"github_endpoint: expected an http(s) URL such as {DEFAULT_ENDPOINT} or "
                f"https://ghe.example/api/v3, got {endpoint!r}"
            )
        max_wait = float(config.get("github_max_wait"))
        if max_wait < 0:
            raise UsageError(f"github_max_wait: expected 0 or more seconds, got {max_wait:g}")
        return cls(endpoint.rstrip("/"), str(config.get("github_token_path") or ""), max_wait)


def read_token(path: str) -> str:
    """The token in the file ``path``, whitespace around it stripped.

    A missing, unreadable or empty file is a ``UsageError`` naming the file (never its
    content). A token with whitespace inside could not go into a header: also an error.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(
            f"github_token_path: cannot read the token file {path}: {error.strerror or error}"
        ) from None
    except UnicodeDecodeError:
        raise UsageError(f"github_token_path: the token file {path} is not UTF-8 text") from None
    token = text.strip()
    if not token:
        raise UsageError(f"github_token_path: the token file {path} is empty")
    if any(char.isspace() or not char.isprintable() for char in token):
        raise UsageError(
            f"github_token_path: the token file {path} holds more than a token "
            "(whitespace or control characters inside it)"
        )
    return token


# -- retries --------------------------------------------------------------------------------
class RetryPolicy:
    """githubkit's ``auto_retry`` decision for one client: which failures to try again, when.

    It remembers the last decision, so that the error for a request that finally failed
    can say how often it was tried (``attempts``) and why a rate limit was not waited out
    (``refusal``). Rate-limit waits add up in ``waited`` over the client's whole life.
    """

    def __init__(self, max_wait: float, backoff: float | None = None) -> None:
        self.max_wait = max_wait
        self.backoff = BACKOFF if backoff is None else backoff
        self.waited = 0.0
        self.attempts = 0
        self.refusal: str | None = None

    def __call__(self, exc: GitHubException, retry_count: int) -> RetryOption:
        """Whether to retry after ``exc`` (the ``retry_count``-th retry so far), and when."""
        from githubkit.typing import RetryOption

        self.attempts = retry_count + 1
        self.refusal = None
        wait = self._wait(exc, retry_count)
        if wait is None:
            return RetryOption(False)
        return RetryOption(True, timedelta(seconds=max(wait, MIN_WAIT)))

    def _wait(self, exc: GitHubException, retry_count: int) -> float | None:
        limited = rate_limit_wait(exc)
        if limited is not None:
            return self._rate_limit(limited, retry_count)
        if is_transient(exc) and retry_count < SERVER_RETRIES:
            return float(self.backoff * 2**retry_count)
        return None

    def _rate_limit(self, wait: float, retry_count: int) -> float | None:
        if retry_count >= RATE_LIMIT_RETRIES:
            self.refusal = f"still rate-limited after waiting {retry_count} times"
            return None
        if self.waited + wait > self.max_wait:
            resets = datetime.now(UTC) + timedelta(seconds=wait)
            spent = f", {self.waited:.0f} s of it already spent" if self.waited else ""
            self.refusal = (
                f"the rate limit resets at {resets:%Y-%m-%d %H:%M:%S} UTC, in "
                f"{math.ceil(wait)} s, longer than github_max_wait allows "
                f"({self.max_wait:g} s{spent})"
            )
            return None
        self.waited += wait
        return wait


def rate_limit_wait(exc: GitHubException) -> float | None:
    """Seconds until a rate limit that ``exc`` reports is over; None if it is no rate limit.

    githubkit recognises ``retry-after`` and ``x-ratelimit-remaining: 0`` on 403/429. A 429
    without those, or a 403 whose message names a secondary rate limit, gets GitHub's
    advice: wait at least a minute.
    """
    from githubkit.exception import RateLimitExceeded, RequestFailed

    if isinstance(exc, RateLimitExceeded):
        return exc.retry_after.total_seconds()
    if isinstance(exc, RequestFailed):
        status = exc.response.status_code
        if status == 429 or (status == 403 and "secondary rate" in github_message(exc).lower()):
            return UNNAMED_RESET
    return None


def is_transient(exc: GitHubException) -> bool:
    """A server error or a network fault: worth trying again after a pause."""
    import httpx
    from githubkit.exception import RequestError, RequestFailed

    if isinstance(exc, RequestFailed):
        return exc.response.status_code >= 500
    if isinstance(exc, RequestError):
        transient = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
        return isinstance(exc.exc, transient)
    return False


def github_message(exc: GitHubException) -> str:
    """The ``message`` of GitHub's JSON error body, first line only; empty if none."""
    from githubkit.exception import RequestFailed

    if not isinstance(exc, RequestFailed):
        return ""
    try:
        body = exc.response.raw_response.json()
    except ValueError:
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    return message.strip().splitlines()[0][:200] if isinstance(message, str) and message else ""


# -- the client -----------------------------------------------------------------------------
class GitHubClient(AbstractContextManager["GitHubClient"]):
    """A githubkit ``GitHub`` configured for covtool, and the one way its failures are told.

    Use it as a context manager to keep one connection pool for all requests::

        with GitHubClient.from_run(run) as client:
            pull = client.json(client.call(lambda: client.github.rest.pulls.get("o", "r", 5)))
            files = client.paginate(client.github.rest.pulls.list_files, owner="o", ...)

    ``call`` and ``paginate`` raise ``ServiceError`` (one line, no token) on any failure.
    """

    def __init__(self, settings: GitHubSettings, token: str | None = None) -> None:
        from githubkit import GitHub

        self.settings = settings
        self.retry = RetryPolicy(settings.max_wait)
        self._token = token
        self.github: GitHub[Any] = GitHub(
            token,
            base_url=settings.endpoint + "/",
            user_agent=f"covtool/{__version__}",
            timeout=TIMEOUT,
            http_cache=False,  # every answer must be today's; ghproxy does the caching
            auto_retry=self.retry,
            event_hooks={"request": [_pin_version], "response": [self._rebase_links]},
        )

    @classmethod
    def from_run(cls, run: Run) -> GitHubClient:
        """A client for the run's settings, with the token from ``github_token_path``."""
        settings = GitHubSettings.from_config(run.config)
        token = read_token(settings.token_path) if settings.token_path else None
        return cls(settings, token)

    @property
    def authenticated(self) -> bool:
        """Whether requests carry a token."""
        return self._token is not None

    def __repr__(self) -> str:
        auth = f"token from {self.settings.token_path}" if self._token else "anonymous"
        return f"GitHubClient({self.settings.endpoint}, {auth})"

    def __enter__(self) -> GitHubClient:
        self.github.__enter__()  # type: ignore[no-untyped-call]  # githubkit leaves it unannotated
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.github.__exit__(exc_type, exc_value, traceback)

    # -- requests ---------------------------------------------------------------------------
    def call(self, request: Callable[[], T]) -> T:
        """``request()`` (a githubkit call), its failures turned into one ``ServiceError``."""
        return cast(T, self.call_unless((), request))

    def call_unless(self, statuses: tuple[int, ...], request: Callable[[], T]) -> T | None:
        """``call(request)``, but None when GitHub answers with one of ``statuses`` (a
        comment someone else already deleted: 404; a token that may not ask: 403)."""
        from githubkit.exception import GitHubException, RequestFailed

        try:
            return request()
        except RequestFailed as exc:
            if exc.response.status_code in statuses and rate_limit_wait(exc) is None:
                return None
            failure = ServiceError(self.describe(exc))
        except GitHubException as exc:
            failure = ServiceError(self.describe(exc))
        # Raised outside the handler, so the error carries no githubkit exception (whose
        # request holds the Authorization header) as its context.
        raise failure

    def json(self, response: Response[Any]) -> Any:
        """The JSON body of a successful response; anything else is a ``ServiceError``."""
        try:
            return response.raw_response.json()
        except ValueError:
            kind = response.headers.get("content-type", "no content type")
            raise ServiceError(
                f"GitHub {self.what(response.raw_request)}: the answer is not JSON ({kind})"
            ) from None

    def paginate(self, request: Callable[..., Response[Any]], **kwargs: Any) -> list[Any]:
        """Every item of every page of a list endpoint, following ``Link: rel="next"``.

        ``kwargs`` are the endpoint's parameters (pass ``per_page=100``). Items are the
        JSON objects as GitHub sent them, not validated models.
        """
        pages = self.github.rest.paginate(request, self._json_list, **kwargs)
        return self.call(lambda: list(pages))

    def _json_list(self, response: Response[Any]) -> list[Any]:
        items = self.json(response)
        if not isinstance(items, list):
            raise ServiceError(
                f"GitHub {self.what(response.raw_request)}: expected a JSON list, "
                f"got {type(items).__name__}"
            )
        return items

    # -- messages ---------------------------------------------------------------------------
    def what(self, request: httpx.Request) -> str:
        """``GET /repos/o/r/pulls/5``: the method and the URL relative to the endpoint."""
        url = str(request.url)
        relative = url.removeprefix(self.settings.endpoint)
        return f"{request.method} {relative if relative.startswith('/') else url}"

    def describe(self, exc: GitHubException) -> str:
        """One line for a failed request: what, the status or fault, and a hint."""
        from githubkit.exception import RequestError, RequestFailed, RequestTimeout

        if isinstance(exc, RequestFailed):
            text = f"GitHub {self.what(exc.request)}: {self._status(exc)}"
        elif isinstance(exc, RequestTimeout):
            text = f"GitHub {self.what(exc.request)}: no answer within {TIMEOUT:g} s"
            text += self._tries()
        elif isinstance(exc, RequestError):
            text = self._fault(exc)
        else:
            text = f"GitHub: {type(exc).__name__}: {exc}"
        return self.redact(" ".join(text.split()))

    def _status(self, exc: RequestFailed) -> str:
        response = exc.response
        text = f"{response.status_code} {response.reason_phrase}".strip()
        detail = github_message(exc)
        if detail and detail.lower() != response.reason_phrase.lower():
            text += f" ({detail})"
        if self.retry.refusal:
            return f"{text}; {self.retry.refusal}"
        return text + self._tries() + self._hint(response.status_code)

    def _fault(self, exc: RequestError[Any]) -> str:
        fault = exc.exc
        try:
            what = self.what(fault.request)
        except (AttributeError, RuntimeError):  # an httpx error raised before any request
            what = "request"
        reason = str(fault) or type(fault).__name__
        return f"GitHub {what}: cannot reach {self.settings.endpoint} ({reason}){self._tries()}"

    def _tries(self) -> str:
        return f" after {self.retry.attempts} tries" if self.retry.attempts > 1 else ""

    def _hint(self, status: int) -> str:
        token = self.settings.token_path
        if status == 401:
            if token:
                return f"; GitHub refused the token in {token}: is it valid and unexpired?"
            return "; this needs a token: set github_token_path (--github-token) to its file"
        if status == 403:
            who = f"the token in {token}" if token else "anonymous access (no github_token_path)"
            return f"; {who} may not do this"
        if status == 404:
            access = (
                f"and that the token in {token} may read the repository"
                if token
                else "and give a token (github_token_path) for a private repository"
            )
            return (
                f"; check the repository and pull request number, the endpoint "
                f"({self.settings.endpoint}), {access}"
            )
        return ""

    def redact(self, text: str) -> str:
        """``text`` with the token, should it appear, replaced by ``***``."""
        return text.replace(self._token, "***") if self._token else text

    # -- event hooks ------------------------------------------------------------------------
    def _rebase_links(self, response: httpx.Response) -> None:
        """Point pagination links at the endpoint (ghproxy relays links to GitHub itself)."""
        links = response.headers.get("link")
        if links:
            response.headers["link"] = rebase_links(links, self.settings.endpoint)


def _pin_version(request: httpx.Request) -> None:
    """Ask every request for the same API version (githubkit would ask for its newest)."""
    request.headers["X-GitHub-Api-Version"] = API_VERSION


_LINK_URL = re.compile(r"<([^<>]*)>")


def rebase_links(header: str, endpoint: str) -> str:
    """A ``Link`` header whose URLs on another host are moved onto ``endpoint``.

    The path and query are kept; the endpoint's path prefix (``/api/v3``) is added when the
    link lacks it. Links already on the endpoint's host are left alone.
    """
    base = urlsplit(endpoint)
    prefix = base.path.rstrip("/")

    def rebase(match: re.Match[str]) -> str:
        link = urlsplit(match[1])
        if not link.netloc or (link.scheme, link.netloc) == (base.scheme, base.netloc):
            return match[0]
        path = link.path if link.path.startswith(prefix + "/") else prefix + link.path
        query = f"?{link.query}" if link.query else ""
        return f"<{base.scheme}://{base.netloc}{path}{query}>"

    return _LINK_URL.sub(rebase, header)
