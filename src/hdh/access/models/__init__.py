from hdh.access.models.applications import (
    Application,
    PerimeterItem,
    Project,
    StageEntry,
    TeamMember,
)
from hdh.access.models.messages import Message
from hdh.access.models.publications import Publication, PublicationKind
from hdh.access.models.questions import ExtraAnswer, QuestionVersion
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
    "ExtraAnswer",
    "Message",
    "OpinionOutcome",
    "PerimeterItem",
    "Permit",
    "Project",
    "Publication",
    "PublicationKind",
    "QuestionVersion",
    "Review",
    "StageEntry",
    "TeamMember",
]
