"""What the checkers' votes mean, and who sees which votes and comments.

Two independent checkers: until two reviews of the current turn are submitted,
a checker sees only their own votes and comments (the requester's comments and
those of earlier turns too). A file's decision counts the votes of the checkers
who submitted a review this turn (OpenSAFELY airlock ``RequestFile.get_decision``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from hdh.airlock.models import Comment, FileReview, ReleaseRequest, RequestFile, Review
from hdh.airlock.states import FileDecision, FileKind, State, Visibility, Vote

REVIEWS_NEEDED = 2
# The requester sees the checkers' public comments of a turn once it is over.
TURN_OVER = frozenset(
    {State.RETURNED, State.APPROVED, State.RELEASED, State.REJECTED, State.WITHDRAWN}
)


def reviewers(request: ReleaseRequest, turn: int | None = None) -> set[int]:
    """The checkers who submitted a review of ``turn`` (the current one by default)."""
    turn = request.turn if turn is None else turn
    return set(
        Review.objects.filter(request=request, turn=turn).values_list("checker_id", flat=True)
    )


def has_reviewed(request: ReleaseRequest, user: Any) -> bool:
    return getattr(user, "pk", None) in reviewers(request)


def decision_of(votes: list[str]) -> FileDecision:
    """One file's decision from the submitted votes on it."""
    if len(votes) < REVIEWS_NEEDED:
        return FileDecision.INCOMPLETE
    if votes.count(Vote.APPROVED) >= REVIEWS_NEEDED:
        return FileDecision.APPROVED
    if all(vote == Vote.CHANGES_REQUESTED for vote in votes):
        return FileDecision.CHANGES_REQUESTED
    if all(vote == Vote.REJECTED for vote in votes):
        return FileDecision.REJECTED
    return FileDecision.CONFLICTED


def decisions(request: ReleaseRequest) -> dict[int, FileDecision]:
    """The decision on each output file of the request, from this turn's reviewers."""
    counted = reviewers(request)
    votes: dict[int, list[str]] = {}
    for file_id, decision in FileReview.objects.filter(
        file__request=request, checker_id__in=counted
    ).values_list("file_id", "decision"):
        votes.setdefault(file_id, []).append(decision)
    outputs = RequestFile.objects.filter(request=request, kind=FileKind.OUTPUT)
    return {pk: decision_of(votes.get(pk, [])) for pk in outputs.values_list("pk", flat=True)}


def blinded(request: ReleaseRequest) -> bool:
    """Are the checkers still working independently on this turn?"""
    return len(reviewers(request)) < REVIEWS_NEEDED


def visible_votes(request: ReleaseRequest, user: Any, *, checker: bool) -> list[FileReview]:
    """The votes ``user`` may see: none for the project side, only their own while blinded."""
    if not checker:
        return []
    votes = FileReview.objects.filter(file__request=request).select_related("checker")
    if blinded(request):
        votes = votes.filter(checker_id=user.pk)
    return list(votes)


def visible_comments(request: ReleaseRequest, user: Any, *, checker: bool) -> list[Comment]:
    comments = Comment.objects.filter(request=request).select_related("author", "file", "group")
    if checker:
        if blinded(request):
            comments = comments.filter(
                Q(by_checker=False) | Q(author_id=user.pk) | Q(turn__lt=request.turn)
            )
        return list(comments)
    shown = Q(by_checker=False)
    public = Q(by_checker=True, visibility=Visibility.PUBLIC)
    shown |= public if request.state in TURN_OVER else public & Q(turn__lt=request.turn)
    return list(comments.filter(shown))
