from __future__ import annotations

from django import template

from hdh.lake.report import RULES

register = template.Library()


@register.filter
def rule_description(rule: str) -> str:
    """The rule's description in the reader's language."""
    return str(RULES.get(rule, rule))
