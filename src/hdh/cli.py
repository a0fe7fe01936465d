"""The ``hdh`` command: one entry point for operators.

``hdh demo``, ``hdh serve``, ``hdh worker`` and ``hdh audit verify`` are the
platform's own commands; anything else is passed to Django's management
commands (``hdh migrate``, ``hdh createuser``, ``hdh check --deploy``…).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdh.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        args = ["help", "--commands"]
    execute_from_command_line(["hdh", *args])


if __name__ == "__main__":
    main()
