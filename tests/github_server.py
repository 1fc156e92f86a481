"""A GitHub-shaped HTTP server on loopback, for driving the real GitHub client in tests.

``GitHubServer`` listens on 127.0.0.1 (a free port) in a thread and keeps repositories, pull
requests, their conversation comments and commit statuses in memory. It answers the way
api.github.com does where covtool can tell:

* JSON shapes of the REST API (pull requests, ``DiffEntry`` files, issue comments, commit
  statuses, users), with every response carrying ``Content-Type: application/json;
  charset=utf-8``, ``X-GitHub-Request-Id``, ``X-GitHub-Api-Version-Selected`` and the
  ``X-RateLimit-*`` headers;
* pagination by ``page``/``per_page`` (30 by default, at most 100) with ``Link`` headers
  (``prev``, ``next``, ``last``, ``first``) in GitHub's own form: absolute URLs on
  ``/repositories/{id}/...``; a pull request lists at most 3,000 files;
* 404 ``{"message": "Not Found", ...}`` for what does not exist, 401 when a token is
  required and missing or wrong (``Authorization: token X`` and ``Bearer X`` both work),
  400 for an API version GitHub does not have or a body that is not a JSON object, 422
  ``Validation Failed`` with GitHub's ``errors`` list for a bad comment or status;
* a path prefix (``/api/v3``, as GitHub Enterprise) and links on another base (``link_base``,
  as GitHub's links look when ghproxy relays them).

Endpoints (each also under ``/repositories/{id}``, the form ``Link`` headers use):

* ``GET .../pulls/{number}`` and ``GET .../pulls/{number}/files``;
* ``GET`` and ``POST .../issues/{number}/comments`` (a pull request's conversation comments
  are issue comments), ``GET``, ``PATCH`` and ``DELETE .../issues/comments/{comment_id}``;
* ``POST .../statuses/{sha}`` and ``GET .../commits/{ref}/statuses`` (newest first);
* ``GET /user``, the authenticated user.

Users: each token belongs to a login. ``token=`` (with ``login=``, default ``covtool-bot``)
is the one token a server requires; ``add_user(token, login)`` registers more (another
user's). Without ``token=`` reads may be anonymous, but a write (POST, PATCH, DELETE) needs a
token; a token nobody registered is then the default ``login``. Only a comment's author, or
a login in ``admins``, may edit or delete it (else 403, as GitHub says to non-admins).
Comments and statuses get increasing ids and times from a server clock that starts at
``2024-01-04T00:00:00Z`` and ticks one second per write, so every write has its own time.

Tests inject faults with ``enqueue``: canned replies returned, in order, before normal
handling (``Reply.server_error()``, ``Reply.rate_limited(1)``). ``requests`` logs every
request. Routes are a table: ``server.route("GET", "/repos/{owner}/{repo}/issues")`` adds
one, so a new endpoint is a handler each. Test helpers read and write state without HTTP:
``add_comment``, ``comments`` and ``statuses``.
"""

from __future__ import annotations

import calendar
import hashlib
import itertools
import json
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LOOPBACK = "127.0.0.1"
API_VERSIONS = frozenset({"2022-11-28", "2026-03-10"})
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100
MAX_PR_FILES = 3000
DOCS = "https://docs.github.com/rest"
WEB = "https://github.com"
#: Methods a server without a token of its own serves to anonymous clients.
READS = frozenset({"GET", "HEAD"})
#: The longest comment body GitHub takes, in characters.
MAX_COMMENT_BODY = 65_536
#: The states a commit status can have, and the longest description it takes.
STATUS_STATES = ("error", "failure", "pending", "success")
MAX_STATUS_DESCRIPTION = 140
#: The server clock's first time: after the pull requests' ``created_at``/``updated_at``.
CLOCK_START = calendar.timegm((2024, 1, 4, 0, 0, 0))
#: The reactions a comment's ``reactions`` object counts.
REACTIONS = ("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes")


# -- requests and replies --------------------------------------------------------------------
@dataclass
class Request:
    """One request as the server saw it. Header names are lower case."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    time: float

    def param(self, name: str, default: str = "") -> str:
        """The first value of query parameter ``name``."""
        return self.query.get(name, [default])[0]

    def token(self) -> str | None:
        """The token of the ``Authorization`` header (``token X`` or ``Bearer X``), if any."""
        scheme, _, value = self.headers.get("authorization", "").partition(" ")
        if scheme.lower() in ("token", "bearer") and value.strip():
            return value.strip()
        return None


@dataclass
class Reply:
    """What the server answers: a status, a JSON body (or bytes) and extra headers."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def error(cls, status: int, message: str, docs: str = DOCS, **headers: str) -> Reply:
        """GitHub's error body: ``{"message", "documentation_url", "status"}``."""
        body = {"message": message, "documentation_url": docs, "status": str(status)}
        return cls(status, body, {k.replace("_", "-"): v for k, v in headers.items()})

    @classmethod
    def validation_failed(cls, *errors: dict[str, str], docs: str = DOCS) -> Reply:
        """GitHub's 422: ``{"message": "Validation Failed", "errors": [...], ...}``, each
        error naming a ``resource``, a ``field`` and a ``code`` (and a ``message`` when the
        code is ``custom``)."""
        body = {
            "message": "Validation Failed",
            "errors": list(errors),
            "documentation_url": docs,
            "status": "422",
        }
        return cls(422, body)

    @classmethod
    def server_error(cls, status: int = 502) -> Reply:
        """A server error as GitHub's front end sends it."""
        return cls.error(status, "Server Error")

    @classmethod
    def rate_limited(cls, reset_in: float = 1.0, status: int = 403) -> Reply:
        """The primary rate limit used up; it resets ``reset_in`` seconds from now."""
        reply = cls.error(
            status,
            "API rate limit exceeded for user ID 1.",
            f"{DOCS}/using-the-rest-api/rate-limits-for-the-rest-api",
        )
        reply.headers.update(
            {
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(round(time.time() + reset_in)),
            }
        )
        return reply

    @classmethod
    def secondary_rate_limited(cls, retry_after: int = 1) -> Reply:
        """A secondary rate limit, with the ``Retry-After`` seconds GitHub asks for."""
        reply = cls.error(
            403,
            "You have exceeded a secondary rate limit. Please wait a few minutes before you "
            "try again.",
            f"{DOCS}/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
        )
        reply.headers["Retry-After"] = str(retry_after)
        return reply


Handler = Callable[[Request, dict[str, str]], Reply]


@dataclass(frozen=True)
class Route:
    """A method and a path template (``/repos/{owner}/{repo}``) mapped to a handler."""

    method: str
    pattern: re.Pattern[str]
    handler: Handler

    @classmethod
    def make(cls, method: str, template: str, handler: Handler) -> Route:
        """A route whose ``{name}`` parts match one path segment each."""
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
        return cls(method, re.compile(regex), handler)


# -- state -----------------------------------------------------------------------------------
@dataclass
class FileChange:
    """One file of a pull request, as ``GET .../pulls/N/files`` lists it.

    ``additions`` and ``deletions`` are counted from ``patch`` unless given (a file whose
    patch GitHub leaves out still has counts).
    """

    filename: str
    status: str = "modified"
    patch: str | None = None
    previous_filename: str | None = None
    additions: int | None = None
    deletions: int | None = None

    def counts(self) -> tuple[int, int]:
        """Added and deleted lines."""
        lines = (self.patch or "").splitlines()
        added = sum(1 for line in lines if line.startswith("+"))
        deleted = sum(1 for line in lines if line.startswith("-"))
        return (
            added if self.additions is None else self.additions,
            deleted if self.deletions is None else self.deletions,
        )


@dataclass
class Pull:
    """A pull request. ``changed_files`` overrides the count GitHub reports (default: the
    number of files)."""

    number: int
    files: list[FileChange]
    base_sha: str
    head_sha: str
    title: str = "Make coverage better"
    user: str = "octocat"
    base_ref: str = "main"
    head_ref: str = "feature"
    state: str = "open"
    commits: int = 1
    changed_files: int | None = None


@dataclass
class IssueComment:
    """A comment in the conversation of issue (or pull request) ``number``. Times are
    seconds since the epoch, from the server clock."""

    id: int
    number: int
    body: str
    user: str
    created_at: int
    updated_at: int


@dataclass
class CommitStatus:
    """One status of commit ``sha``, as ``POST .../statuses/{sha}`` made it."""

    id: int
    sha: str
    state: str
    creator: str
    created_at: int
    target_url: str | None = None
    description: str | None = None
    context: str = "default"


@dataclass
class Repository:
    """A repository, its pull requests, their comments (by issue number, oldest first) and
    commit statuses (by sha, oldest first)."""

    owner: str
    name: str
    id: int
    private: bool = False
    pulls: dict[int, Pull] = field(default_factory=dict)
    comments: dict[int, list[IssueComment]] = field(default_factory=dict)
    statuses: dict[str, list[CommitStatus]] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        """``owner/name``."""
        return f"{self.owner}/{self.name}"


def user_json(login: str, api: str, user_id: int) -> dict[str, Any]:
    """A ``simple-user`` object (every field githubkit's ``SimpleUser`` requires)."""
    url = f"{api}/users/{login}"
    return {
        "login": login,
        "id": user_id,
        "node_id": f"MDQ6VXNlcj{user_id}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4",
        "gravatar_id": "",
        "url": url,
        "html_url": f"{WEB}/{login}",
        "followers_url": f"{url}/followers",
        "following_url": f"{url}/following{{/other_user}}",
        "gists_url": f"{url}/gists{{/gist_id}}",
        "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{url}/subscriptions",
        "organizations_url": f"{url}/orgs",
        "repos_url": f"{url}/repos",
        "events_url": f"{url}/events{{/privacy}}",
        "received_events_url": f"{url}/received_events",
        "type": "User",
        "site_admin": False,
    }


def user_id(login: str) -> int:
    """A stable id for ``login``: the same on every server and in every run."""
    return int(hashlib.sha1(login.encode()).hexdigest()[:7], 16) + 1_000_000


def iso(seconds: int) -> str:
    """A time as GitHub writes it: ISO 8601 in UTC, ``2024-01-04T00:00:00Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


# -- the server ------------------------------------------------------------------------------
class GitHubServer:
    """A GitHub REST API on 127.0.0.1; see the module docstring.

    :param token: when set, every request must carry this token (or one of ``users``), else
        401; when not, reads may be anonymous but writes need a token.
    :param prefix: a path prefix for every route, ``/api/v3`` for GitHub Enterprise.
    :param link_base: the base that ``Link`` URLs and ``url`` fields use (default: the
        server's own); another base is what a client behind ghproxy sees.
    :param login: the user ``token`` belongs to, and the user of any token nobody
        registered when there is no ``token``.
    :param users: more tokens and their logins (token -> login); see ``add_user``.
    :param admins: logins that may edit and delete other users' comments, as a
        repository's admins may on GitHub.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        prefix: str = "",
        link_base: str | None = None,
        login: str = "covtool-bot",
        users: Mapping[str, str] | None = None,
        admins: Iterable[str] = (),
    ) -> None:
        self.token = token
        self.login = login
        self.users: dict[str, str] = ({token: login} if token else {}) | dict(users or {})
        self.admins: set[str] = set(admins)
        self.prefix = prefix.rstrip("/")
        self.requests: list[Request] = []
        self.repositories: dict[str, Repository] = {}
        self.routes: list[Route] = []
        self._canned: list[tuple[re.Pattern[str] | None, Reply]] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1_296_269)
        self._comment_ids = itertools.count(1_900_000_001)
        self._status_ids = itertools.count(30_000_000_001)
        self._clock = itertools.count(CLOCK_START)
        # Handlers run in the server's threads, helpers in the test's: one lock for both.
        self._state = threading.RLock()
        self._used = 0
        self._reset = int(time.time()) + 3600
        self._server = ThreadingHTTPServer((LOOPBACK, 0), _Handler)
        self._server.daemon_threads = True
        self._server.github = self  # type: ignore[attr-defined]
        self._link_base = link_base
        self._add_routes()
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """The API endpoint: ``http://127.0.0.1:PORT`` plus the prefix."""
        return f"http://{LOOPBACK}:{self._server.server_address[1]}{self.prefix}"

    @property
    def api(self) -> str:
        """The base of URLs in answers (``Link``, ``url`` fields)."""
        return (self._link_base or f"http://{LOOPBACK}:{self._server.server_address[1]}") + (
            self.prefix
        )

    def __enter__(self) -> GitHubServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    # -- state and faults -------------------------------------------------------------------
    def add_repository(self, owner: str, name: str, *, private: bool = False) -> Repository:
        """A repository (made once; later calls return the same one)."""
        key = f"{owner}/{name}"
        if key not in self.repositories:
            self.repositories[key] = Repository(owner, name, next(self._ids), private)
        return self.repositories[key]

    def add_pull(
        self,
        repo: str,
        number: int,
        files: Iterable[FileChange],
        *,
        base_sha: str = "b" * 40,
        head_sha: str = "c" * 40,
        **fields: Any,
    ) -> Pull:
        """A pull request ``number`` in ``OWNER/NAME`` changing ``files``."""
        owner, name = repo.split("/")
        pull = Pull(number, list(files), base_sha, head_sha, **fields)
        self.add_repository(owner, name).pulls[number] = pull
        return pull

    def add_user(self, token: str, login: str) -> None:
        """Accept ``token`` as ``login``'s (another user, for comments that are not ours)."""
        self.users[token] = login

    def add_comment(
        self, repo: str, number: int, body: str, user: str | None = None
    ) -> dict[str, Any]:
        """A comment by ``user`` (default: ``login``) on pull request ``number`` of
        ``OWNER/NAME``, made without HTTP; returns its JSON as served."""
        found = self.repositories.get(repo)
        if found is None or number not in found.pulls:
            raise KeyError(f"no pull request {repo}#{number}: add_pull it first")
        return self.comment_json(found, self._new_comment(found, number, body, user or self.login))

    def comments(self, repo: str, number: int) -> list[dict[str, Any]]:
        """The comments on issue ``number`` of ``OWNER/NAME`` now, oldest first, as served."""
        found = self.repositories.get(repo)
        if found is None:
            return []
        with self._state:
            current = list(found.comments.get(number, []))
        return [self.comment_json(found, comment) for comment in current]

    def statuses(self, repo: str, sha: str) -> list[dict[str, Any]]:
        """The statuses of commit ``sha`` in ``OWNER/NAME``, newest first, as served."""
        found = self.repositories.get(repo)
        if found is None:
            return []
        with self._state:
            current = list(reversed(found.statuses.get(sha, [])))
        return [self.status_json(found, status) for status in current]

    def enqueue(self, *replies: Reply, path: str | None = None) -> None:
        """Answer the next requests (those whose path matches the regex ``path``, if given)
        with ``replies``, one each, before any normal handling."""
        pattern = re.compile(path) if path else None
        with self._lock:
            self._canned.extend((pattern, reply) for reply in replies)

    def logged(self, path_regex: str = "") -> list[Request]:
        """The requests so far whose path matches ``path_regex``."""
        with self._lock:
            return [r for r in self.requests if re.search(path_regex, r.path)]

    def route(self, method: str, template: str) -> Callable[[Handler], Handler]:
        """Decorator: serve ``method template`` (after the prefix) with the function."""

        def add(handler: Handler) -> Handler:
            self.routes.append(Route.make(method, template, handler))
            return handler

        return add

    # -- one request ------------------------------------------------------------------------
    def answer(self, request: Request) -> tuple[Reply, dict[str, str]]:
        """The reply to ``request`` and the headers every reply carries."""
        with self._lock:
            self.requests.append(request)
            self._used += 1
            canned = self._take_canned(request.path)
        reply = canned or self._handle(request)
        return reply, self._common_headers(request) | reply.headers

    def _take_canned(self, path: str) -> Reply | None:
        for index, (pattern, reply) in enumerate(self._canned):
            if pattern is None or pattern.search(path):
                del self._canned[index]
                return reply
        return None

    def _handle(self, request: Request) -> Reply:
        refused = self._check_auth(request) or self._check_version(request)
        if refused is not None:
            return refused
        if not request.path.startswith(self.prefix + "/"):
            return Reply.error(404, "Not Found")
        path = request.path[len(self.prefix) :]
        for route in self.routes:
            match = route.pattern.fullmatch(path)
            if match and route.method == request.method:
                return route.handler(request, match.groupdict())
        return Reply.error(404, "Not Found")

    def login_of(self, request: Request) -> str | None:
        """Who sent ``request``: the login its token belongs to, or None when it carries no
        token or one this server refuses."""
        given = request.token()
        if given is None:
            return None
        if given in self.users:
            return self.users[given]
        if given == self.token:  # a test may set ``token`` after construction
            return self.login
        # A server that requires no token takes any token as its default user: tests that
        # care about who is who register their tokens.
        return self.login if self.token is None else None

    def _check_auth(self, request: Request) -> Reply | None:
        if not request.headers.get("authorization"):
            if self.token is None and request.method in READS:
                return None
            return Reply.error(401, "Requires authentication")
        if self.login_of(request) is None:
            return Reply.error(401, "Bad credentials")
        return None

    def _check_version(self, request: Request) -> Reply | None:
        version = request.headers.get("x-github-api-version")
        if version is None or version in API_VERSIONS:
            return None
        return Reply.error(400, f"Unsupported 'X-GitHub-Api-Version': '{version}'")

    def _common_headers(self, request: Request) -> dict[str, str]:
        limit = 5000 if "authorization" in request.headers else 60
        request_id = hashlib.sha1(f"{request.time}{request.path}".encode()).hexdigest()[:20]
        return {
            "Content-Type": "application/json; charset=utf-8",
            "X-GitHub-Api-Version-Selected": request.headers.get(
                "x-github-api-version", "2022-11-28"
            ),
            "X-GitHub-Media-Type": "github.v3; format=json",
            "X-GitHub-Request-Id": ":".join(request_id[i : i + 4].upper() for i in range(0, 20, 4)),
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(limit - self._used, 0)),
            "X-RateLimit-Reset": str(self._reset),
            "X-RateLimit-Used": str(min(self._used, limit)),
            "X-RateLimit-Resource": "core",
        }

    # -- routes -----------------------------------------------------------------------------
    def _add_routes(self) -> None:
        for template in ("/repos/{owner}/{repo}", "/repositories/{id}"):
            self.route("GET", template + "/pulls/{number}")(self._get_pull)
            self.route("GET", template + "/pulls/{number}/files")(self._list_pull_files)
            self.route("GET", template + "/issues/{number}/comments")(self._list_comments)
            self.route("POST", template + "/issues/{number}/comments")(self._create_comment)
            comment = template + "/issues/comments/{comment_id}"
            self.route("GET", comment)(self._get_comment)
            self.route("PATCH", comment)(self._update_comment)
            self.route("DELETE", comment)(self._delete_comment)
            self.route("POST", template + "/statuses/{sha}")(self._create_status)
            self.route("GET", template + "/commits/{ref}/statuses")(self._list_statuses)
        self.route("GET", "/user")(self._get_user)

    def repository_of(self, params: dict[str, str]) -> Repository | None:
        """The repository a route's ``owner``/``repo`` or ``id`` names."""
        if "id" in params:
            wanted = params["id"]
            return next((r for r in self.repositories.values() if str(r.id) == wanted), None)
        return self.repositories.get(f"{params['owner']}/{params['repo']}")

    def _pull_of(self, params: dict[str, str]) -> tuple[Repository, Pull] | None:
        repo = self.repository_of(params)
        number = params["number"]
        if repo is None or not number.isdigit() or int(number) not in repo.pulls:
            return None
        return repo, repo.pulls[int(number)]

    def _get_pull(self, request: Request, params: dict[str, str]) -> Reply:
        found = self._pull_of(params)
        if found is None:
            return Reply.error(404, "Not Found", f"{DOCS}/pulls/pulls#get-a-pull-request")
        return Reply(200, self.pull_json(*found))

    def _list_pull_files(self, request: Request, params: dict[str, str]) -> Reply:
        found = self._pull_of(params)
        if found is None:
            return Reply.error(404, "Not Found", f"{DOCS}/pulls/pulls#list-pull-requests-files")
        repo, pull = found
        return self.page(
            request,
            pull.files[:MAX_PR_FILES],
            f"/repositories/{repo.id}/pulls/{pull.number}/files",
            lambda change: self.diff_entry_json(repo, pull, change),
        )

    # -- users ------------------------------------------------------------------------------
    def _get_user(self, request: Request, params: dict[str, str]) -> Reply:
        login = self.login_of(request)
        if login is None:
            return Reply.error(
                401, "Requires authentication", f"{DOCS}/users/users#get-the-authenticated-user"
            )
        return Reply(200, self.private_user_json(login))

    def _writer(self, request: Request) -> str:
        """Who makes a write: ``_check_auth`` let no anonymous write through."""
        return self.login_of(request) or self.login

    # -- issue comments ---------------------------------------------------------------------
    def _list_comments(self, request: Request, params: dict[str, str]) -> Reply:
        found = self._pull_of(params)
        if found is None:
            return Reply.error(404, "Not Found", f"{DOCS}/issues/comments#list-issue-comments")
        repo, pull = found
        with self._state:
            current = list(repo.comments.get(pull.number, []))
        return self.page(
            request,
            current,
            f"/repositories/{repo.id}/issues/{pull.number}/comments",
            lambda comment: self.comment_json(repo, comment),
        )

    def _create_comment(self, request: Request, params: dict[str, str]) -> Reply:
        docs = f"{DOCS}/issues/comments#create-an-issue-comment"
        found = self._pull_of(params)
        if found is None:
            return Reply.error(404, "Not Found", docs)
        data = _validated_body(request, _comment_body_errors, docs)
        if isinstance(data, Reply):
            return data
        repo, pull = found
        comment = self._new_comment(repo, pull.number, data["body"], self._writer(request))
        return Reply(201, self.comment_json(repo, comment))

    def _get_comment(self, request: Request, params: dict[str, str]) -> Reply:
        found = self._comment_of(params)
        if found is None:
            return Reply.error(404, "Not Found", f"{DOCS}/issues/comments#get-an-issue-comment")
        return Reply(200, self.comment_json(*found))

    def _update_comment(self, request: Request, params: dict[str, str]) -> Reply:
        docs = f"{DOCS}/issues/comments#update-an-issue-comment"
        found = self._comment_of(params)
        if found is None:
            return Reply.error(404, "Not Found", docs)
        repo, comment = found
        if refused := self._check_may_edit(request, comment, docs):
            return refused
        data = _validated_body(request, _comment_body_errors, docs)
        if isinstance(data, Reply):
            return data
        with self._state:
            comment.body = data["body"]
            comment.updated_at = next(self._clock)
        return Reply(200, self.comment_json(repo, comment))

    def _delete_comment(self, request: Request, params: dict[str, str]) -> Reply:
        docs = f"{DOCS}/issues/comments#delete-an-issue-comment"
        found = self._comment_of(params)
        if found is None:
            return Reply.error(404, "Not Found", docs)
        repo, comment = found
        if refused := self._check_may_edit(request, comment, docs):
            return refused
        with self._state:
            thread = repo.comments[comment.number]
            if comment in thread:  # another request may have deleted it meanwhile
                thread.remove(comment)
        return Reply(204)

    def _check_may_edit(self, request: Request, comment: IssueComment, docs: str) -> Reply | None:
        """403 unless the writer wrote ``comment`` or is an admin (GitHub's own message)."""
        writer = self._writer(request)
        if writer == comment.user or writer in self.admins:
            return None
        return Reply.error(403, "Must have admin rights to Repository.", docs)

    def _comment_of(self, params: dict[str, str]) -> tuple[Repository, IssueComment] | None:
        """The comment ``comment_id`` if it is in the route's repository."""
        repo = self.repository_of(params)
        wanted = params["comment_id"]
        if repo is None or not wanted.isdigit():
            return None
        with self._state:
            for thread in repo.comments.values():
                for comment in thread:
                    if comment.id == int(wanted):
                        return repo, comment
        return None

    def _new_comment(self, repo: Repository, number: int, body: str, user: str) -> IssueComment:
        with self._state:
            now = next(self._clock)
            comment = IssueComment(next(self._comment_ids), number, body, user, now, now)
            repo.comments.setdefault(number, []).append(comment)
        return comment

    # -- commit statuses --------------------------------------------------------------------
    def _create_status(self, request: Request, params: dict[str, str]) -> Reply:
        docs = f"{DOCS}/commits/statuses#create-a-commit-status"
        repo = self.repository_of(params)
        if repo is None:
            return Reply.error(404, "Not Found", docs)
        data = _validated_body(request, _status_errors, docs)
        if isinstance(data, Reply):
            return data
        sha = params["sha"]
        with self._state:
            status = CommitStatus(
                next(self._status_ids),
                sha,
                data["state"],
                self._writer(request),
                next(self._clock),
                data.get("target_url"),
                data.get("description"),
                data.get("context") or "default",
            )
            repo.statuses.setdefault(sha, []).append(status)
        return Reply(201, self.status_json(repo, status))

    def _list_statuses(self, request: Request, params: dict[str, str]) -> Reply:
        repo = self.repository_of(params)
        if repo is None:
            return Reply.error(
                404, "Not Found", f"{DOCS}/commits/statuses#list-commit-statuses-for-a-reference"
            )
        ref = params["ref"]
        with self._state:
            newest_first = list(reversed(repo.statuses.get(ref, [])))
        return self.page(
            request,
            newest_first,
            f"/repositories/{repo.id}/commits/{ref}/statuses",
            lambda status: self.status_json(repo, status),
        )

    # -- pagination and JSON ----------------------------------------------------------------
    def page(
        self,
        request: Request,
        items: list[Any],
        link_path: str,
        render: Callable[[Any], Any] = lambda item: item,
    ) -> Reply:
        """One page of ``items``, each made JSON by ``render``, with GitHub's ``Link``
        header on ``link_path``."""
        per_page = _number(request.param("per_page"), DEFAULT_PER_PAGE)
        per_page = min(max(per_page, 1), MAX_PER_PAGE)
        page = max(_number(request.param("page"), 1), 1)
        last = max((len(items) + per_page - 1) // per_page, 1)
        reply = Reply(
            200, [render(item) for item in items[(page - 1) * per_page : page * per_page]]
        )
        links = []
        for rel, target in (("prev", page - 1), ("next", page + 1), ("last", last), ("first", 1)):
            wanted = rel in ("prev", "first") and page > 1
            wanted |= rel in ("next", "last") and page < last
            if wanted:
                links.append(f'<{self._page_url(request, link_path, target)}>; rel="{rel}"')
        if links:
            reply.headers["Link"] = ", ".join(links)
        return reply

    def _page_url(self, request: Request, link_path: str, page: int) -> str:
        query = [(k, v) for k, values in request.query.items() if k != "page" for v in values]
        query.append(("page", str(page)))
        return f"{self.api}{link_path}?{urllib.parse.urlencode(query)}"

    def pull_json(self, repo: Repository, pull: Pull) -> dict[str, Any]:
        """A pull request as ``GET /repos/{owner}/{repo}/pulls/{number}`` returns it."""
        api, web = f"{self.api}/repos/{repo.full_name}", f"{WEB}/{repo.full_name}"
        author = user_json(pull.user, self.api, 583231)
        owner = user_json(repo.owner, self.api, 9919)
        counts = [f.counts() for f in pull.files]
        changed = len(pull.files) if pull.changed_files is None else pull.changed_files
        return {
            "url": f"{api}/pulls/{pull.number}",
            "id": 1_000_000 + pull.number,
            "node_id": f"PR_kwDOABC{pull.number}",
            "html_url": f"{web}/pull/{pull.number}",
            "diff_url": f"{web}/pull/{pull.number}.diff",
            "patch_url": f"{web}/pull/{pull.number}.patch",
            "issue_url": f"{api}/issues/{pull.number}",
            "commits_url": f"{api}/pulls/{pull.number}/commits",
            "review_comments_url": f"{api}/pulls/{pull.number}/comments",
            "review_comment_url": f"{api}/pulls/comments{{/number}}",
            "comments_url": f"{api}/issues/{pull.number}/comments",
            "statuses_url": f"{api}/statuses/{pull.head_sha}",
            "number": pull.number,
            "state": pull.state,
            "locked": False,
            "title": pull.title,
            "user": author,
            "body": "Please pull these awesome changes in!",
            "labels": [],
            "milestone": None,
            "active_lock_reason": None,
            "created_at": "2024-01-02T03:04:05Z",
            "updated_at": "2024-01-03T03:04:05Z",
            "closed_at": None,
            "merged_at": None,
            "merge_commit_sha": hashlib.sha1(pull.head_sha.encode()).hexdigest(),
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "draft": False,
            "head": self._ref_json(repo, pull.head_ref, pull.head_sha, author),
            "base": self._ref_json(repo, pull.base_ref, pull.base_sha, owner),
            "_links": {
                "self": {"href": f"{api}/pulls/{pull.number}"},
                "html": {"href": f"{web}/pull/{pull.number}"},
                "issue": {"href": f"{api}/issues/{pull.number}"},
                "comments": {"href": f"{api}/issues/{pull.number}/comments"},
                "statuses": {"href": f"{api}/statuses/{pull.head_sha}"},
            },
            "author_association": "CONTRIBUTOR",
            "auto_merge": None,
            "merged": False,
            "mergeable": True,
            "rebaseable": True,
            "mergeable_state": "clean",
            "merged_by": None,
            "comments": len(repo.comments.get(pull.number, [])),
            "review_comments": 0,
            "maintainer_can_modify": False,
            "commits": pull.commits,
            "additions": sum(added for added, _ in counts),
            "deletions": sum(deleted for _, deleted in counts),
            "changed_files": changed,
        }

    def _ref_json(
        self, repo: Repository, ref: str, sha: str, user: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "label": f"{user['login']}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": user,
            "repo": self.repository_json(repo),
        }

    def repository_json(self, repo: Repository) -> dict[str, Any]:
        """The ``repository`` object embedded in pull requests."""
        api = f"{self.api}/repos/{repo.full_name}"
        return {
            "id": repo.id,
            "node_id": f"MDEwOlJlcG9zaXRvcnk{repo.id}",
            "name": repo.name,
            "full_name": repo.full_name,
            "private": repo.private,
            "owner": user_json(repo.owner, self.api, 9919),
            "html_url": f"{WEB}/{repo.full_name}",
            "description": "A repository covtool measures",
            "fork": False,
            "url": api,
            "pulls_url": f"{api}/pulls{{/number}}",
            "statuses_url": f"{api}/statuses/{{sha}}",
            "default_branch": "main",
            "visibility": "private" if repo.private else "public",
        }

    def diff_entry_json(self, repo: Repository, pull: Pull, change: FileChange) -> dict[str, Any]:
        """One ``DiffEntry`` of ``GET .../pulls/{number}/files``."""
        quoted = urllib.parse.quote(change.filename)
        added, deleted = change.counts()
        blob = f"blob {change.filename}\0{change.patch}".encode()
        entry: dict[str, Any] = {
            "sha": hashlib.sha1(blob).hexdigest(),
            "filename": change.filename,
            "status": change.status,
            "additions": added,
            "deletions": deleted,
            "changes": added + deleted,
            "blob_url": f"{WEB}/{repo.full_name}/blob/{pull.head_sha}/{quoted}",
            "raw_url": f"{WEB}/{repo.full_name}/raw/{pull.head_sha}/{quoted}",
            "contents_url": (
                f"{self.api}/repos/{repo.full_name}/contents/{quoted}?ref={pull.head_sha}"
            ),
        }
        if change.patch is not None:
            entry["patch"] = change.patch
        if change.previous_filename is not None:
            entry["previous_filename"] = change.previous_filename
        return entry

    def comment_json(self, repo: Repository, comment: IssueComment) -> dict[str, Any]:
        """An issue comment as ``GET .../issues/comments/{comment_id}`` returns it."""
        api = f"{self.api}/repos/{repo.full_name}"
        return {
            "url": f"{api}/issues/comments/{comment.id}",
            "html_url": f"{WEB}/{repo.full_name}/pull/{comment.number}#issuecomment-{comment.id}",
            "issue_url": f"{api}/issues/{comment.number}",
            "id": comment.id,
            "node_id": f"IC_kwDOABC{comment.id}",
            "user": user_json(comment.user, self.api, user_id(comment.user)),
            "created_at": iso(comment.created_at),
            "updated_at": iso(comment.updated_at),
            "author_association": self.association(repo, comment.user),
            "body": comment.body,
            "reactions": {
                "url": f"{api}/issues/comments/{comment.id}/reactions",
                "total_count": 0,
                **dict.fromkeys(REACTIONS, 0),
            },
            "performed_via_github_app": None,
        }

    def association(self, repo: Repository, login: str) -> str:
        """``author_association``: how ``login`` is related to ``repo``."""
        if login == repo.owner:
            return "OWNER"
        if login in self.admins:  # an admin of a user's repository is a collaborator
            return "COLLABORATOR"
        if any(pull.user == login for pull in repo.pulls.values()):
            return "CONTRIBUTOR"
        return "NONE"

    def status_json(self, repo: Repository, status: CommitStatus) -> dict[str, Any]:
        """A commit status as ``POST .../statuses/{sha}`` returns it."""
        creator = user_json(status.creator, self.api, user_id(status.creator))
        return {
            "url": f"{self.api}/repos/{repo.full_name}/statuses/{status.sha}",
            "avatar_url": creator["avatar_url"],
            "id": status.id,
            "node_id": f"SC_kwDOABC{status.id}",
            "state": status.state,
            "description": status.description,
            "target_url": status.target_url,
            "context": status.context,
            "created_at": iso(status.created_at),
            "updated_at": iso(status.created_at),
            "creator": creator,
        }

    def private_user_json(self, login: str) -> dict[str, Any]:
        """The authenticated user as ``GET /user`` returns it (a ``private-user``)."""
        return user_json(login, self.api, user_id(login)) | {
            "name": None,
            "company": None,
            "blog": "",
            "location": None,
            "email": None,
            "hireable": None,
            "bio": None,
            "twitter_username": None,
            "public_repos": len([r for r in self.repositories.values() if r.owner == login]),
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "created_at": "2020-01-01T00:00:00Z",
            "updated_at": iso(CLOCK_START),
            "private_gists": 0,
            "total_private_repos": 0,
            "owned_private_repos": 0,
            "disk_usage": 0,
            "collaborators": 0,
            "two_factor_authentication": True,
            "plan": {
                "name": "free",
                "space": 976562499,
                "collaborators": 0,
                "private_repos": 10000,
            },
        }


def _number(text: str, default: int) -> int:
    """A query parameter as GitHub reads numbers: anything else means the default."""
    return int(text) if text.isdigit() else default


def _json_object(request: Request) -> dict[str, Any] | Reply:
    """The request's JSON object body (none is ``{}``), or GitHub's 400 for anything else."""
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return Reply.error(400, "Problems parsing JSON")
    return data


def _validated_body(
    request: Request, check: Callable[[dict[str, Any]], list[dict[str, str]]], docs: str
) -> dict[str, Any] | Reply:
    """The request's JSON object, or the 400 or 422 reply GitHub gives when it is not one or
    ``check`` finds errors in it."""
    data = _json_object(request)
    if isinstance(data, Reply):
        return data
    if errors := check(data):
        return Reply.validation_failed(*errors, docs=docs)
    return data


def _comment_body_errors(data: dict[str, Any]) -> list[dict[str, str]]:
    """GitHub's validation errors for a comment's ``body``: it must be a non-empty string of
    at most 65,536 characters."""
    body = data.get("body")
    error = {"resource": "IssueComment", "field": "body"}
    if body is None or body == "":
        return [error | {"code": "missing_field"}]
    if not isinstance(body, str):
        return [error | {"code": "invalid"}]
    if len(body) > MAX_COMMENT_BODY:
        message = f"body is too long (maximum is {MAX_COMMENT_BODY} characters)"
        return [error | {"code": "custom", "message": message}]
    return []


def _status_errors(data: dict[str, Any]) -> list[dict[str, str]]:
    """GitHub's validation errors for a new commit status."""
    errors = []
    state = data.get("state")
    if state is None:
        errors.append({"resource": "Status", "field": "state", "code": "missing_field"})
    elif state not in STATUS_STATES:
        message = "state is not included in the list"
        errors.append(
            {"resource": "Status", "field": "state", "code": "custom", "message": message}
        )
    for name in ("target_url", "description", "context"):
        if data.get(name) is not None and not isinstance(data[name], str):
            errors.append({"resource": "Status", "field": name, "code": "invalid"})
    description = data.get("description")
    if isinstance(description, str) and len(description) > MAX_STATUS_DESCRIPTION:
        message = f"description is too long (maximum is {MAX_STATUS_DESCRIPTION} characters)"
        errors.append(
            {"resource": "Status", "field": "description", "code": "custom", "message": message}
        )
    return errors


class _Handler(BaseHTTPRequestHandler):
    """Hands each request to the ``GitHubServer`` and writes its reply (HTTP/1.1)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stall
    server: Any

    def _serve(self) -> None:
        split = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(
            self.command,
            urllib.parse.unquote(split.path),
            urllib.parse.parse_qs(split.query, keep_blank_values=True),
            {name.lower(): value for name, value in self.headers.items()},
            self.rfile.read(length) if length else b"",
            time.time(),
        )
        reply, headers = self.server.github.answer(request)
        data = reply.body if isinstance(reply.body, bytes) else _json_bytes(reply.body)
        self.send_response(reply.status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass


def _json_bytes(body: Any) -> bytes:
    return b"" if body is None else json.dumps(body).encode()


def paths(requests: Iterable[Request]) -> Iterator[str]:
    """``path?query`` of each request, as sent, for compact assertions."""
    for request in requests:
        query = urllib.parse.urlencode([(k, v) for k, vs in request.query.items() for v in vs])
        yield f"{request.path}?{query}" if query else request.path
