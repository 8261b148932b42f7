"""Workflow: which status changes each role may make, and what each change requires.

draft → submitted (worker, record complete) → approved or returned (supervisor; returning
needs a comment) → a returned record is fixed and submitted again. An approved record edited
by anyone who may edit it goes back to submitted as a revision (fieldapp/domain/revision.py);
only a supervisor sends it back without a change. Both the laptop and the server ask
`check_transition`; the server's answer is the one that counts.
"""

from __future__ import annotations

from fieldapp.i18n import BilingualError

ROLES = ("worker", "supervisor", "admin")
REVIEW_ROLES = ("supervisor", "admin")  # who approves, returns and writes review comments

# (from, to) → roles allowed. Editing content without a status change is `(s, s)`.
_ALLOWED: dict[tuple[str, str], tuple[str, ...]] = {
    ("draft", "draft"): ("worker", "supervisor", "admin"),
    ("draft", "submitted"): ("worker", "supervisor", "admin"),
    ("returned", "returned"): ("worker", "supervisor", "admin"),
    ("returned", "submitted"): ("worker", "supervisor", "admin"),
    ("returned", "draft"): ("worker", "supervisor", "admin"),
    ("submitted", "draft"): ("worker", "supervisor", "admin"),  # withdraw to keep editing
    ("submitted", "submitted"): ("supervisor", "admin"),
    ("submitted", "approved"): ("supervisor", "admin"),
    ("submitted", "returned"): ("supervisor", "admin"),
    ("approved", "approved"): ("supervisor", "admin"),
    ("approved", "returned"): ("supervisor", "admin"),  # reopen with a reason
    ("approved", "submitted"): ("supervisor", "admin"),  # undo an approval: review it again
}
#: Allowed only when the content changed (a revision of an approved record).
_REVISION: dict[tuple[str, str], tuple[str, ...]] = {
    ("approved", "submitted"): ("worker", "supervisor", "admin"),
}


class TransitionError(BilingualError, ValueError):
    """A status change this role may not make, with the reason in both languages."""


def check_transition(old: str | None, new: str, role: str, comment: str | None = None, *,
                     revision: bool = False) -> None:
    """Raise TransitionError unless `role` may move a record from `old` to `new`; `revision`
    says the record's content changed with it (fieldapp.domain.revision.is_revision)."""
    old = old or "draft"
    roles = (_REVISION if revision else {}).get((old, new)) or _ALLOWED.get((old, new))
    if roles is None:
        from fieldapp.domain.choices import STATUS

        raise TransitionError(f"不能从「{STATUS.label(old)}」改为「{STATUS.label(new)}」",
                              f"cannot change status from {STATUS.label(old, 'en')} to "
                              f"{STATUS.label(new, 'en')}")
    if role not in roles:
        if new == "approved":
            raise TransitionError("只有主管可以审核通过", "only a supervisor may approve")
        from fieldapp.domain.choices import ROLE, STATUS

        raise TransitionError(
            f"{ROLE.label(role)}不能把记录从「{STATUS.label(old)}」改为「{STATUS.label(new)}」",
            f"a {ROLE.label(role, 'en').lower()} cannot change a record from "
            f"{STATUS.label(old, 'en')} to {STATUS.label(new, 'en')}")
    # `comment` is the one the record carries after the change: a returned record always
    # says why (returning again with an empty comment would leave the worker no reason).
    if new == "returned" and not (comment and comment.strip()):
        raise TransitionError("退回时必须填写意见", "returning a record needs a comment")
