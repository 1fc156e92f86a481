"""Which job this is: Prow's environment read once, checked, and completed from ``JOB_SPEC``.

Prow gives a job's pod ``JOB_TYPE``, ``JOB_NAME``, ``BUILD_ID`` (``BUILD_NUMBER`` in old
setups), ``REPO_OWNER``, ``REPO_NAME``, ``PULL_BASE_REF``, ``PULL_BASE_SHA``,
``PULL_NUMBER``, ``PULL_PULL_SHA``, ``PULL_REFS`` and, for decorated jobs, ``ARTIFACTS``; and
the same facts as one JSON document, ``JOB_SPEC``. A variable that is missing is taken from
``JOB_SPEC``, so a pod that only has ``JOB_SPEC`` works too. Without ``JOB_TYPE`` (and
without ``--job-type``) the run is local.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from covtool.errors import UsageError

PRESUBMIT = "presubmit"
POSTSUBMIT = "postsubmit"
PERIODIC = "periodic"
BATCH = "batch"
LOCAL = "local"
#: Prow's job types, then covtool's own for a run outside Prow.
JOB_TYPES = (PRESUBMIT, POSTSUBMIT, PERIODIC, BATCH, LOCAL)

#: What a presubmit cannot do without: the pull request and the commit measured.
_PRESUBMIT_NEEDS = ("REPO_OWNER", "REPO_NAME", "PULL_NUMBER", "PULL_PULL_SHA")


@dataclass(frozen=True)
class Job:
    """The job covtool runs in: its type, name and build, and what it is about."""

    type: str
    name: str
    build_id: str | None
    environ: Mapping[str, str]

    @property
    def in_prow(self) -> bool:
        """Whether Prow runs this job (any type but local)."""
        return self.type != LOCAL

    def describe(self) -> str:
        """One phrase for the log: ``presubmit pull-x build 17 (o/r#5 at abc1234)``."""
        if not self.in_prow:
            return "local run"
        text = f"{self.type} {self.name or '(no JOB_NAME)'}"
        text += f" build {self.build_id}" if self.build_id else ""
        env = self.environ
        if self.type == PRESUBMIT:
            text += f" ({env['REPO_OWNER']}/{env['REPO_NAME']}#{env['PULL_NUMBER']}"
            text += f" at {env['PULL_PULL_SHA'][:7]})"
        elif env.get("PULL_BASE_SHA"):
            text += f" ({env.get('PULL_BASE_REF') or 'base'} at {env['PULL_BASE_SHA'][:7]})"
        return text


def read_job(environ: Mapping[str, str], forced_type: str | None = None) -> Job:
    """The job that ``environ`` (completed from ``JOB_SPEC``) or ``--job-type`` describes.

    A presubmit must name its pull request and commit; a missing variable is named.
    """
    completed = complete_environ(environ)
    kind = (forced_type or completed.get("JOB_TYPE", "")).strip() or LOCAL
    if kind not in JOB_TYPES:
        where = "--job-type" if forced_type else "environment variable JOB_TYPE"
        raise UsageError(f"{where}: expected one of {', '.join(JOB_TYPES)}, got {kind!r}")
    if kind == PRESUBMIT:
        missing = [name for name in _PRESUBMIT_NEEDS if not completed.get(name)]
        if missing:
            raise UsageError(
                f"a presubmit needs Prow's {', '.join(missing)} (or JOB_SPEC's refs); "
                "they are not set"
            )
    build = completed.get("BUILD_ID") or completed.get("BUILD_NUMBER") or None
    return Job(kind, completed.get("JOB_NAME", ""), build, completed)


def complete_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` with every Prow variable it lacks taken from ``JOB_SPEC``."""
    completed = dict(environ)
    text = environ.get("JOB_SPEC", "").strip()
    if not text:
        return completed
    for name, value in spec_variables(_spec(text)).items():
        if value and not completed.get(name):
            completed[name] = value
    return completed


def _spec(text: str) -> dict[str, Any]:
    try:
        spec = json.loads(text)
    except ValueError as error:
        raise UsageError(f"environment variable JOB_SPEC: not JSON ({error})") from None
    if not isinstance(spec, dict):
        raise UsageError("environment variable JOB_SPEC: expected a JSON object")
    return spec


def spec_variables(spec: Mapping[str, Any]) -> dict[str, str]:
    """The variables Prow derives from a ``JOB_SPEC`` document."""
    refs = spec.get("refs") or next(iter(spec.get("extra_refs") or []), None) or {}
    if not isinstance(refs, dict):
        raise UsageError("environment variable JOB_SPEC: key 'refs': expected an object")
    pulls = refs.get("pulls") or []
    first = pulls[0] if pulls and isinstance(pulls[0], dict) else {}
    variables = {
        "JOB_TYPE": spec.get("type"),
        "JOB_NAME": spec.get("job"),
        "BUILD_ID": spec.get("buildid"),
        "PROW_JOB_ID": spec.get("prowjobid"),
        "REPO_OWNER": refs.get("org"),
        "REPO_NAME": refs.get("repo"),
    }
    if spec.get("refs"):  # a periodic's extra_refs name a repository, not a change to it
        variables |= {
            "PULL_BASE_REF": refs.get("base_ref"),
            "PULL_BASE_SHA": refs.get("base_sha"),
            "PULL_REFS": _pull_refs(refs, pulls),
        }
        if len(pulls) == 1:  # a batch tests several pulls: none of them is "the" pull
            variables |= {"PULL_NUMBER": first.get("number"), "PULL_PULL_SHA": first.get("sha")}
    return {name: str(value) for name, value in variables.items() if value not in (None, "")}


def _pull_refs(refs: Mapping[str, Any], pulls: list[Any]) -> str | None:
    """``PULL_REFS``: ``base_ref:base_sha`` then ``number:sha`` for each pull."""
    if not refs.get("base_ref"):
        return None
    parts = [f"{refs['base_ref']}:{refs.get('base_sha', '')}"]
    parts += [f"{p.get('number')}:{p.get('sha', '')}" for p in pulls if isinstance(p, dict)]
    return ",".join(parts)
