"""The committee's vote: who votes, the tally, the quorum, and who records the opinion.

Each assigned member who declared no conflict of interest votes once (their
individual opinion: favourable, favourable with recommendations, unfavourable,
with a rationale). ``HDH_COMMITTEE_QUORUM`` says when the committee may conclude:
``all`` (the default) waits for every assigned member without a conflict; a
number waits for that many votes. The chair of the file, or the guichet officer,
then records the committee's opinion, which must follow a strict majority of the
votes (a tie leaves the choice to whoever records it). See ADR 0006.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from hdh.access.models import Application, OpinionOutcome, Review
from hdh.core.errors import InvalidState


@dataclass(frozen=True)
class Tally:
    favourable: int
    with_recommendations: int
    unfavourable: int
    # Assigned members who have not declared a conflict: the voters still expected.
    eligible: int

    @property
    def cast(self) -> int:
        return self.favourable + self.with_recommendations + self.unfavourable

    @property
    def majority(self) -> str | None:
        """``favourable``/``unfavourable`` when one side has more than half the votes."""
        for_ = self.favourable + self.with_recommendations
        if 2 * self.unfavourable > self.cast:
            return OpinionOutcome.UNFAVOURABLE
        if 2 * for_ > self.cast:
            return OpinionOutcome.FAVOURABLE
        return None


def quorum_setting() -> str:
    return str(getattr(settings, "HDH_COMMITTEE_QUORUM", "all") or "all")


def tally(application: Application) -> Tally:
    reviews = list(Review.objects.filter(application_id=application.pk))
    voting = [r for r in reviews if r.has_conflict is not True]
    votes = [r.opinion for r in voting if r.opinion]
    return Tally(
        favourable=votes.count(OpinionOutcome.FAVOURABLE),
        with_recommendations=votes.count(OpinionOutcome.FAVOURABLE_WITH_RECOMMENDATIONS),
        unfavourable=votes.count(OpinionOutcome.UNFAVOURABLE),
        eligible=len(voting),
    )


def votes_needed(counted: Tally) -> int:
    setting = quorum_setting()
    if setting == "all":
        return max(1, counted.eligible)
    return int(setting)


def quorum_reached(counted: Tally) -> bool:
    return counted.cast >= votes_needed(counted)


def check_opinion(application: Application, outcome: str) -> Tally:
    """Raise :class:`InvalidState` unless the committee may conclude with ``outcome``."""
    counted = tally(application)
    if not quorum_reached(counted):
        raise InvalidState(
            _("Quorum non atteint : %(cast)s vote(s) sur %(needed)s requis.")
            % {"cast": counted.cast, "needed": votes_needed(counted)}
        )
    majority = counted.majority
    unfavourable = outcome == OpinionOutcome.UNFAVOURABLE
    if majority == OpinionOutcome.UNFAVOURABLE and not unfavourable:
        raise InvalidState(_("La majorité des votes est défavorable."))
    if majority == OpinionOutcome.FAVOURABLE and unfavourable:
        raise InvalidState(_("La majorité des votes est favorable."))
    return counted


def chair_of(application: Application) -> Review | None:
    """The member chairing the file, unless they declared a conflict of interest."""
    return (
        Review.objects.filter(application_id=application.pk, chair=True)
        .exclude(has_conflict=True)
        .first()
    )
