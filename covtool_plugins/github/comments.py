"""The sticky pull request comment: find covtool's earlier comment for this job, then update
it, replace it, or leave it.

covtool's comment is one whose body holds the job's hidden marker *and* whose author is the
token's own user (``GET /user``; for a GitHub App token, which may not ask that, the
``covbot_username`` setting). Comments by anyone else are never edited or deleted, even when
they quote the marker and the token would be allowed to (a repository admin's).

Modes (``comment_mode``):

* ``update`` (default): edit the newest of covtool's comments in place (left alone when the
  body is the same) and delete any older duplicates; post one when there is none;
* ``new``: delete covtool's comments and post a new one, so the PR's timeline shows it last;
* ``once``: post one when there is none, never touch it afterwards;
* ``off``: no comment.

With nothing to report, an existing comment is updated to say so (never left showing a stale
table), and no new one is posted.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from covtool import UsageError
from covtool_plugins.github.client import GitHubClient
from covtool_plugins.github.pulls import PullTarget

MODES = ("update", "new", "once", "off")


@dataclass(frozen=True)
class Outcome:
    """What publishing did: ``action`` (posted, updated, unchanged, kept, deleted, skipped),
    the comment's web address when one exists, and how many old comments were deleted."""

    action: str
    url: str | None = None
    deleted: int = 0

    def describe(self) -> str:
        """One line for the log."""
        where = f": {self.url}" if self.url else ""
        extra = f" ({self.deleted} older deleted)" if self.deleted else ""
        return f"PR comment {self.action}{where}{extra}"


@dataclass
class StickyComment:
    """covtool's comment on one pull request, for one job."""

    client: GitHubClient
    target: PullTarget
    marker: str
    login: str

    def publish(self, body: str, mode: str, nothing: bool) -> Outcome:
        """Make the pull request show ``body`` the way ``mode`` says; see the module."""
        if mode == "off":
            return Outcome("skipped")
        body = body if self.marker in body else f"{self.marker}\n{body}"
        ours = self.find()
        if mode == "once" and ours:
            return Outcome("kept", ours[0].get("html_url"))
        if mode == "new" or not ours:
            deleted = self.delete(ours)
            if nothing and not ours:
                return Outcome("skipped")
            return Outcome("posted", self.post(body), deleted)
        newest, older = ours[-1], ours[:-1]
        deleted = self.delete(older)
        if newest.get("body") == body:
            return Outcome("unchanged", newest.get("html_url"), deleted)
        return Outcome("updated", self.update(newest["id"], body), deleted)

    def find(self) -> list[dict[str, Any]]:
        """covtool's comments for this job, oldest first, over every page."""
        t, github = self.target, self.client.github
        comments = self.client.paginate(
            github.rest.issues.list_comments, owner=t.owner, repo=t.repo,
            issue_number=t.number, per_page=100,
        )  # fmt: skip
        return sorted((c for c in comments if self._ours(c)), key=lambda c: int(c.get("id") or 0))

    def _ours(self, comment: Any) -> bool:
        if not isinstance(comment, dict):
            return False
        author = comment.get("user") or {}
        body = comment.get("body") or ""
        return author.get("login") == self.login and self.marker in body

    def post(self, body: str) -> str | None:
        """Post a new comment; its web address."""
        t, github = self.target, self.client.github
        response = self.client.call(
            lambda: github.rest.issues.create_comment(t.owner, t.repo, t.number, body=body)
        )
        return _html_url(self.client.json(response))

    def update(self, comment_id: int, body: str) -> str | None:
        """Replace a comment's body; its web address."""
        t, github = self.target, self.client.github
        response = self.client.call(
            lambda: github.rest.issues.update_comment(t.owner, t.repo, comment_id, body=body)
        )
        return _html_url(self.client.json(response))

    def delete(self, comments: list[dict[str, Any]]) -> int:
        """Delete ``comments``; one already gone (404) counts as deleted."""
        t, delete = self.target, self.client.github.rest.issues.delete_comment
        for comment in comments:
            request = functools.partial(delete, t.owner, t.repo, int(comment["id"]))
            self.client.call_unless((404,), request)
        return len(comments)


def authenticated_login(client: GitHubClient, configured: str) -> str:
    """The login whose comments covtool may touch: the token's own user.

    A GitHub App's installation token may not ask (``GET /user`` answers 403): then
    ``covbot_username`` names it (``my-app[bot]``). When both are known they must agree, so
    a misconfigured name cannot make covtool edit someone else's comments.
    """
    github = client.github
    response = client.call_unless((403,), github.rest.users.get_authenticated)
    if response is None:
        if configured:
            return configured
        raise UsageError(
            "the GitHub token may not tell whose it is (GET /user: 403, as for a GitHub App); "
            "set covbot_username to the login covtool comments as (e.g. my-app[bot])"
        )
    login = client.json(response).get("login")
    if not isinstance(login, str) or not login:
        raise UsageError("GitHub GET /user: the answer names no login")
    if configured and configured != login:
        raise UsageError(
            f"covbot_username is {configured!r}, but the GitHub token belongs to {login!r}; "
            "covtool only edits comments of the token's own user"
        )
    return login


def _html_url(comment: Any) -> str | None:
    url = comment.get("html_url") if isinstance(comment, dict) else None
    return url if isinstance(url, str) else None
