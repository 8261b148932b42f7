"""Revisions of approved records and the last approved values (the approved snapshot).

An approved record stays editable by anyone who may edit it; a change to its content is a
*revision*: the record goes back to the review queue (submitted) and, until a supervisor
approves the revision, every report and export of approved records reads the values last
approved (`approved` on the laptop, `approved_data` on the registry, `approved` on the wire).
Returning a revision keeps those values; approving it replaces them.

The joint-review step (联审 results and 可实施改造) and the project pipeline are a supervisor's
own steps: saving only those fields never makes a revision, never changes the status and never
moves a record in the queue.
The laptop and the registry both decide with the functions here, so they agree.
"""

from __future__ import annotations

from collections.abc import Iterable

from fieldapp.domain.joint_review import joint_review_fields
from fieldapp.domain.project import PROJECT_FIELDS

#: Fields of the supervisor's own steps after the survey (joint review, the conversion
#: project): saved without touching the workflow, never a revision of the surveyed content.
REVIEW_STEP_FIELDS: frozenset[str] = frozenset((*joint_review_fields(), "conversion_ready",
                                                *PROJECT_FIELDS))
#: Envelope fields that travel with content in diffs and mutations but are not content.
WORKFLOW_FIELDS = frozenset(("status", "review_comment"))


def content_fields(changed: Iterable[str]) -> set[str]:
    """The changed fields that make a revision: content other than the joint-review step."""
    return {f for f in changed if f not in WORKFLOW_FIELDS and f not in REVIEW_STEP_FIELDS}


def status_after_edit(old_status: str | None, requested: str, changed: Iterable[str]) -> str:
    """The status a save ends in: an approved record whose content changes goes back to the
    review queue, whichever save key was used (a revision is never approved by its editor)."""
    if old_status == "approved" and requested in ("approved", "draft") \
            and content_fields(changed):
        return "submitted"
    return requested


def is_revision(old_status: str | None, new_status: str, changed: Iterable[str]) -> bool:
    """An approved record edited and sent back to the queue (not an undone approval)."""
    return old_status == "approved" and new_status == "submitted" and bool(content_fields(changed))


def snapshot_after(old_status: str | None, new_status: str, old_snapshot: dict | None,
                   old_data: dict, new_data: dict, changed: Iterable[str]) -> dict | None:
    """The last approved values after a change from `old_status` to `new_status`.

    Approving takes the record's values. An approved record that goes back without a change
    of content (approval undone, reopened with a reason) leaves the approved lists. Otherwise
    the approved values stay, taking the joint-review step's fields as they are now (that
    step is the supervisor's, not part of a revision under review)."""
    changed = set(changed)
    if new_status == "approved":
        return dict(new_data)
    if old_status == "approved" and new_status != "approved" and not content_fields(changed):
        return None
    base = old_snapshot if old_snapshot is not None else (
        dict(old_data) if old_status == "approved" else None)
    if base is None:
        return None
    step = {k: new_data.get(k) for k in REVIEW_STEP_FIELDS}
    merged = {**{k: v for k, v in base.items() if k not in REVIEW_STEP_FIELDS},
              **{k: v for k, v in step.items() if v is not None}}
    return merged


def revised_fields(approved: dict | None, data: dict) -> list[str]:
    """Fields whose value differs from the last approved one (the revision under review),
    in the order of the record's fields; empty when nothing was ever approved."""
    if approved is None:
        return []
    keys = list(approved) + [k for k in data if k not in approved]
    return [k for k in keys if k not in REVIEW_STEP_FIELDS and approved.get(k) != data.get(k)]


def is_pending_revision(status: str, approved: dict | None) -> bool:
    """A record with approved values that is not approved now: its revision awaits a decision
    (submitted), is being fixed (returned) or is still a draft."""
    return approved is not None and status != "approved"
