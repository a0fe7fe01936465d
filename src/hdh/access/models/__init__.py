from hdh.access.models.applications import (
    Application,
    PerimeterItem,
    Project,
    StageEntry,
    TeamMember,
)
from hdh.access.models.messages import Message
from hdh.access.models.reviews import (
    CommitteeOpinion,
    Decision,
    DecisionOutcome,
    OpinionOutcome,
    Permit,
    Review,
)

__all__ = [
    "Application",
    "CommitteeOpinion",
    "Decision",
    "DecisionOutcome",
    "Message",
    "OpinionOutcome",
    "PerimeterItem",
    "Permit",
    "Project",
    "Review",
    "StageEntry",
    "TeamMember",
]
