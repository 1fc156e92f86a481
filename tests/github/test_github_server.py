"""The GitHub-shaped test server itself: comments, statuses and users, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from githubkit import GitHub, TokenAuthStrategy

from github_server import FileChange, GitHubServer

TOKEN = "ghp_covtoolBotToken000000000000000000000"
OTHER = "ghp_someoneElsesToken0000000000000000000"
COMMENTS = "/repos/o/r/issues/5/comments"
SHA = "c" * 40


@pytest.fixture
def server(github: GitHubServer) -> GitHubServer:
    """The ``github`` server (no token required) with o/r#5, and a second user's token."""
    github.add_pull("o/r", 5, [FileChange("a.go")])
    github.add_user(OTHER, "someone")
    return github


@pytest.fixture
def http(server: GitHubServer) -> Iterator[httpx.Client]:
    """An HTTP client of ``server``, anonymous unless a request names a token."""
    with httpx.Client(base_url=server.url, trust_env=False) as client:
        yield client


def auth(token: str = TOKEN) -> dict[str, str]:
    """The header that sends ``token``."""
    return {"Authorization": f"token {token}"}


def links(response: httpx.Response) -> dict[str, str]:
    """The ``Link`` header as ``{rel: url}``."""
    return {str(rel): str(link["url"]) for rel, link in response.links.items()}


# -- issue comments ------------------------------------------------------------------------------
def test_comments_page_with_links_over_more_than_100(
    server: GitHubServer, http: httpx.Client
) -> None:
    made = [server.add_comment("o/r", 5, f"comment {i}", "someone") for i in range(150)]
    repo_id = server.repositories["o/r"].id

    first = http.get(COMMENTS, params={"per_page": 100})
    second = http.get(links(first)["next"])
    default = http.get(COMMENTS, params={"page": 2})

    assert first.status_code == second.status_code == 200
    assert links(first) == {
        "next": f"{server.url}/repositories/{repo_id}/issues/5/comments?per_page=100&page=2",
        "last": f"{server.url}/repositories/{repo_id}/issues/5/comments?per_page=100&page=2",
    }
    assert links(second) == {
        "prev": f"{server.url}/repositories/{repo_id}/issues/5/comments?per_page=100&page=1",
        "first": f"{server.url}/repositories/{repo_id}/issues/5/comments?per_page=100&page=1",
    }
    served = first.json() + second.json()
    assert [c["body"] for c in served] == [f"comment {i}" for i in range(150)]
    ids = [c["id"] for c in served]
    assert ids == sorted(ids) and len(set(ids)) == 150
    assert served == made == server.comments("o/r", 5)
    assert [c["body"] for c in default.json()] == [f"comment {i}" for i in range(30, 60)]
    assert links(default)["last"].endswith("/issues/5/comments?page=5")


def test_a_comment_is_created_updated_and_deleted(server: GitHubServer, http: httpx.Client) -> None:
    created = http.post(COMMENTS, json={"body": "Coverage: 81%"}, headers=auth())
    comment = created.json()
    url = f"/repos/o/r/issues/comments/{comment['id']}"
    listed = http.get(COMMENTS).json()
    pull = http.get("/repos/o/r/pulls/5").json()

    updated = http.patch(url, json={"body": "Coverage: 82%"}, headers=auth())
    after_update = http.get(url).json()
    deleted = http.delete(url, headers=auth())

    assert created.status_code == 201
    assert comment["body"] == "Coverage: 81%"
    assert comment["user"]["login"] == "covtool-bot"
    assert comment["url"] == f"{server.url}{url}"
    assert comment["html_url"] == f"https://github.com/o/r/pull/5#issuecomment-{comment['id']}"
    assert comment["issue_url"] == f"{server.url}/repos/o/r/issues/5"
    assert comment["created_at"] == comment["updated_at"] == "2024-01-04T00:00:00Z"
    assert comment["author_association"] == "NONE"
    assert comment["performed_via_github_app"] is None
    assert listed == [comment]
    assert pull["comments"] == 1

    assert updated.status_code == 200
    assert updated.json()["body"] == "Coverage: 82%"
    assert updated.json()["created_at"] == "2024-01-04T00:00:00Z"
    assert updated.json()["updated_at"] == "2024-01-04T00:00:01Z"
    assert after_update == updated.json()

    assert deleted.status_code == 204
    assert deleted.content == b""
    assert server.comments("o/r", 5) == []
    assert http.get(url).status_code == 404
    assert http.delete(url, headers=auth()).status_code == 404


def test_comments_of_what_does_not_exist_are_404(server: GitHubServer, http: httpx.Client) -> None:
    server.add_pull("o/elsewhere", 5, [])
    theirs = server.add_comment("o/elsewhere", 5, "not in o/r", "someone")

    assert http.get("/repos/o/r/issues/6/comments").status_code == 404
    assert http.get("/repos/o/nope/issues/5/comments").status_code == 404
    assert (
        http.post("/repos/o/r/issues/6/comments", json={"body": "x"}, headers=auth()).json()[
            "message"
        ]
        == "Not Found"
    )
    other_repo = http.patch(
        f"/repos/o/r/issues/comments/{theirs['id']}", json={"body": "x"}, headers=auth(OTHER)
    )
    assert other_repo.status_code == 404
    assert server.comments("o/elsewhere", 5)[0]["body"] == "not in o/r"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            "x" * 65_537,
            {
                "resource": "IssueComment",
                "field": "body",
                "code": "custom",
                "message": "body is too long (maximum is 65536 characters)",
            },
        ),
        (None, {"resource": "IssueComment", "field": "body", "code": "missing_field"}),
        (42, {"resource": "IssueComment", "field": "body", "code": "invalid"}),
    ],
)
def test_a_bad_comment_body_is_422(
    server: GitHubServer, http: httpx.Client, body: Any, error: dict[str, str]
) -> None:
    posted = http.post(COMMENTS, json={} if body is None else {"body": body}, headers=auth())
    assert posted.status_code == 422
    assert posted.json() == {
        "message": "Validation Failed",
        "errors": [error],
        "documentation_url": "https://docs.github.com/rest/issues/comments#create-an-issue-comment",
        "status": "422",
    }
    assert server.comments("o/r", 5) == []


def test_the_longest_comment_body_is_taken_and_a_too_long_edit_is_not(
    server: GitHubServer, http: httpx.Client
) -> None:
    longest = http.post(COMMENTS, json={"body": "x" * 65_536}, headers=auth())
    edited = http.patch(
        f"/repos/o/r/issues/comments/{longest.json()['id']}",
        json={"body": "y" * 65_537},
        headers=auth(),
    )
    assert longest.status_code == 201
    assert edited.status_code == 422
    assert edited.json()["errors"][0]["message"] == "body is too long (maximum is 65536 characters)"
    assert server.comments("o/r", 5)[0]["body"] == "x" * 65_536


def test_an_anonymous_write_is_401_and_an_anonymous_read_is_not(
    server: GitHubServer, http: httpx.Client
) -> None:
    mine = server.add_comment("o/r", 5, "mine", "covtool-bot")
    posted = http.post(COMMENTS, json={"body": "hello"})
    edited = http.patch(f"/repos/o/r/issues/comments/{mine['id']}", json={"body": "x"})
    status = http.post(f"/repos/o/r/statuses/{SHA}", json={"state": "success"})

    for refused in (posted, edited, status):
        assert refused.status_code == 401
        assert refused.json()["message"] == "Requires authentication"
    assert http.get(COMMENTS).json() == [mine]
    assert server.statuses("o/r", SHA) == []


def test_only_the_author_or_an_admin_edits_a_comment(
    server: GitHubServer, http: httpx.Client
) -> None:
    theirs = server.add_comment("o/r", 5, "someone's", "someone")
    url = f"/repos/o/r/issues/comments/{theirs['id']}"

    refused = http.patch(url, json={"body": "overwritten"}, headers=auth())
    not_deleted = http.delete(url, headers=auth())
    by_author = http.patch(url, json={"body": "edited by someone"}, headers=auth(OTHER))
    server.admins.add("covtool-bot")
    by_admin = http.patch(url, json={"body": "edited by an admin"}, headers=auth())
    deleted_by_admin = http.delete(url, headers=auth())

    assert refused.status_code == not_deleted.status_code == 403
    assert refused.json()["message"] == "Must have admin rights to Repository."
    assert by_author.status_code == 200
    assert by_author.json()["user"]["login"] == "someone"
    assert by_admin.status_code == 200
    assert by_admin.json()["body"] == "edited by an admin"
    assert by_admin.json()["user"]["login"] == "someone"  # the author stays the author
    assert deleted_by_admin.status_code == 204
    assert server.comments("o/r", 5) == []


# -- commit statuses -----------------------------------------------------------------------------
def test_statuses_are_created_and_listed_newest_first(
    server: GitHubServer, http: httpx.Client
) -> None:
    pending = http.post(
        f"/repos/o/r/statuses/{SHA}",
        json={"state": "pending", "context": "covtool/patch"},
        headers=auth(),
    )
    success = http.post(
        f"/repos/o/r/statuses/{SHA}",
        json={
            "state": "success",
            "target_url": "https://ci.example/1",
            "description": "82% of changed lines covered",
        },
        headers=auth(OTHER),
    )
    listed = http.get(f"/repos/o/r/commits/{SHA}/statuses")

    assert pending.status_code == success.status_code == 201
    assert pending.json()["context"] == "covtool/patch"
    assert pending.json()["description"] is None
    assert pending.json()["target_url"] is None
    assert pending.json()["creator"]["login"] == "covtool-bot"
    status = success.json()
    assert status["context"] == "default"
    assert status["url"] == f"{server.url}/repos/o/r/statuses/{SHA}"
    assert status["avatar_url"] == status["creator"]["avatar_url"]
    assert status["creator"]["login"] == "someone"
    assert status["id"] > pending.json()["id"]
    assert status["created_at"] == status["updated_at"] == "2024-01-04T00:00:01Z"
    assert listed.json() == [status, pending.json()] == server.statuses("o/r", SHA)
    assert http.get(f"/repos/o/r/commits/{'d' * 40}/statuses").json() == []
    assert http.get(f"/repos/o/nope/commits/{SHA}/statuses").status_code == 404


def test_statuses_page_with_links(server: GitHubServer, http: httpx.Client) -> None:
    for i in range(3):
        http.post(
            f"/repos/o/r/statuses/{SHA}",
            json={"state": "success", "context": f"c{i}"},
            headers=auth(),
        )
    first = http.get(f"/repos/o/r/commits/{SHA}/statuses", params={"per_page": 2})
    second = http.get(links(first)["next"])
    repo_id = server.repositories["o/r"].id
    assert links(first)["next"] == (
        f"{server.url}/repositories/{repo_id}/commits/{SHA}/statuses?per_page=2&page=2"
    )
    assert [s["context"] for s in first.json() + second.json()] == ["c2", "c1", "c0"]


@pytest.mark.parametrize(
    ("sent", "error"),
    [
        (
            {"state": "passed"},
            {
                "resource": "Status",
                "field": "state",
                "code": "custom",
                "message": "state is not included in the list",
            },
        ),
        ({}, {"resource": "Status", "field": "state", "code": "missing_field"}),
        (
            {"state": "success", "description": "d" * 141},
            {
                "resource": "Status",
                "field": "description",
                "code": "custom",
                "message": "description is too long (maximum is 140 characters)",
            },
        ),
    ],
)
def test_a_bad_status_is_422(
    server: GitHubServer, http: httpx.Client, sent: dict[str, str], error: dict[str, str]
) -> None:
    posted = http.post(f"/repos/o/r/statuses/{SHA}", json=sent, headers=auth())
    assert posted.status_code == 422
    assert posted.json()["message"] == "Validation Failed"
    assert posted.json()["errors"] == [error]
    assert server.statuses("o/r", SHA) == []


def test_a_status_of_an_unknown_repository_is_404(http: httpx.Client) -> None:
    posted = http.post(f"/repos/o/nope/statuses/{SHA}", json={"state": "success"}, headers=auth())
    assert posted.status_code == 404


# -- users and tokens ----------------------------------------------------------------------------
def test_user_is_whoever_the_token_belongs_to(server: GitHubServer, http: httpx.Client) -> None:
    mine = http.get("/user", headers=auth("ghp_anyUnregisteredToken"))
    theirs = http.get("/user", headers={"Authorization": f"Bearer {OTHER}"})
    anonymous = http.get("/user")

    assert mine.status_code == 200
    assert mine.json()["login"] == "covtool-bot"
    assert mine.json()["url"] == f"{server.url}/users/covtool-bot"
    assert theirs.json()["login"] == "someone"
    assert theirs.json()["id"] != mine.json()["id"]
    assert anonymous.status_code == 401
    assert anonymous.json()["message"] == "Requires authentication"


def test_a_server_with_a_token_takes_registered_tokens_only() -> None:
    with (
        GitHubServer(token=TOKEN, login="ci-bot") as server,
        httpx.Client(base_url=server.url, trust_env=False) as http,
    ):
        server.add_user(OTHER, "someone")
        assert http.get("/user", headers=auth()).json()["login"] == "ci-bot"
        assert http.get("/user", headers=auth(OTHER)).json()["login"] == "someone"
        wrong = http.get("/user", headers=auth("ghp_wrong"))
        anonymous = http.get("/user")
    assert wrong.status_code == anonymous.status_code == 401
    assert wrong.json()["message"] == "Bad credentials"
    assert anonymous.json()["message"] == "Requires authentication"


# -- the real client -----------------------------------------------------------------------------
def test_githubkit_parses_every_new_shape(server: GitHubServer) -> None:
    """githubkit validates answers against GitHub's schema: a missing field would fail here."""
    with GitHub(TokenAuthStrategy(TOKEN), base_url=server.url) as client:
        created = client.rest.issues.create_comment("o", "r", 5, body="hi").parsed_data
        updated = client.rest.issues.update_comment("o", "r", created.id, body="hey").parsed_data
        listed = client.rest.issues.list_comments("o", "r", 5).parsed_data
        status = client.rest.repos.create_commit_status(
            "o", "r", SHA, state="failure", description="60% < 80%"
        ).parsed_data
        statuses = client.rest.repos.list_commit_statuses_for_ref("o", "r", SHA).parsed_data
        user = client.rest.users.get_authenticated().parsed_data

    assert updated.body == "hey" and updated.user is not None
    assert updated.user.login == "covtool-bot"
    assert [c.id for c in listed] == [created.id]
    assert (status.state, status.description) == ("failure", "60% < 80%")
    assert [s.id for s in statuses] == [status.id]
    assert user.login == "covtool-bot"
