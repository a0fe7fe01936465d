"""Disclosure-control thresholds: one dataclass, loadable from TOML or JSON.

Defaults follow the CASD rule (no cell under 11 units) and ACRO's defaults for
the rest (dominance n=2, k=90 %; p % rule 10 %; residual degrees of freedom 10).
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# Names of direct identifiers and pseudonyms in the SNDS and in common extracts.
DEFAULT_IDENTIFIER_COLUMNS = (
    "BEN_NIR_PSA",
    "BEN_NIR_ANO",
    "BEN_NIR_IDT",
    "BEN_IDT_ANO",
    "NIR",
    "NIR_ANO_17",
    "NUM_ENQ",
    "NUM_ENQ_ANO",
    "ID_PATIENT",
    "PATIENT_ID",
    "PERSON_ID",
    "PSEUDONYM",
    "PSEUDONYME",
    "IDENTIFIANT",
)


class PolicyError(ValueError):
    """A threshold file or mapping is malformed."""


@dataclasses.dataclass(frozen=True)
class Policy:
    """Every threshold the checks use; one instance per platform and release."""

    min_count: int = 11  # CASD: a cell under 11 units fails
    nk_n: int = 2
    nk_k: float = 0.90  # top-n contributors holding >= k of the cell total fail
    p_percent: float = 0.10  # (total - x1 - x2) / x1 < p fails
    zeros_disclosive: bool = True
    missing_review: bool = True  # cells computed over missing values go to review
    min_dof: int = 10
    round_base: int = 5  # base of the suggested rounding
    secondary_suppression: bool = True
    # Totals of a table without margins are usually published elsewhere: assume
    # them known, so a lone suppressed cell in a row or column is recoverable.
    assume_margins_known: bool = True
    identifier_columns: tuple[str, ...] = DEFAULT_IDENTIFIER_COLUMNS
    microdata_min_rows: int = 10  # below this a table of 1s is not called row-level
    max_cell_chars: int = 1000
    max_file_bytes: int = 16 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.min_count < 1:
            raise PolicyError("min_count must be at least 1")
        if self.nk_n < 1:
            raise PolicyError("nk_n must be at least 1")
        if not 0 < self.nk_k <= 1:
            raise PolicyError("nk_k must be in (0, 1]")
        if not 0 <= self.p_percent < 1:
            raise PolicyError("p_percent must be in [0, 1)")
        if self.min_dof < 0 or self.round_base < 1:
            raise PolicyError("min_dof must be >= 0 and round_base >= 1")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Policy:
        known = {field.name: field for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise PolicyError(f"unknown thresholds: {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for name, raw in data.items():
            default = getattr(cls, name) if name != "identifier_columns" else ()
            if name == "identifier_columns":
                if not isinstance(raw, list | tuple) or not all(isinstance(x, str) for x in raw):
                    raise PolicyError("identifier_columns must be a list of names")
                values[name] = tuple(raw)
            elif isinstance(default, bool):
                if not isinstance(raw, bool):
                    raise PolicyError(f"{name} must be true or false")
                values[name] = raw
            elif isinstance(default, int):
                if isinstance(raw, bool) or not isinstance(raw, int):
                    raise PolicyError(f"{name} must be an integer")
                values[name] = raw
            else:
                if isinstance(raw, bool) or not isinstance(raw, int | float):
                    raise PolicyError(f"{name} must be a number")
                values[name] = float(raw)
        return cls(**values)

    @classmethod
    def load(cls, path: str | Path) -> Policy:
        """Read a ``.toml`` file (table ``[disclosure]`` or top level) or ``.json``."""
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        try:
            data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
        except (json.JSONDecodeError, tomllib.TOMLDecodeError) as error:
            raise PolicyError(f"{path.name}: {error}") from error
        if not isinstance(data, dict):
            raise PolicyError(f"{path.name}: expected a table of thresholds")
        data = data.get("disclosure", data)
        return cls.from_mapping(data)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["identifier_columns"] = list(self.identifier_columns)
        return data
