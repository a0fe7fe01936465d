"""Record linkage for data preparation.

* :mod:`.deterministic` — SNDS tables joined on pseudonymised person keys, and
  how well they link (coverage counts);
* :mod:`.probabilistic` — an external cohort file (names, birth date,
  postcode, sex) linked to the beneficiaries' identities with Splink, on the
  same engine, with a quality report.

See docs/adr/0010-record-linkage.md.
"""

from hdh.preparation.linkage.cohort import CohortInvalid
from hdh.preparation.linkage.deterministic import Coverage, coverage, join_sql
from hdh.preparation.linkage.model import TrainingOptions
from hdh.preparation.linkage.probabilistic import IdentityColumns, LinkageResult, link_cohort

__all__ = [
    "CohortInvalid",
    "Coverage",
    "IdentityColumns",
    "LinkageResult",
    "TrainingOptions",
    "coverage",
    "join_sql",
    "link_cohort",
]
