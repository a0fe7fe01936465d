"""The airlock: the one exit for results.

``hdh.airlock.check`` holds the statistical disclosure checks. It imports no
Django so researchers run the same checks in workspace jobs and offline.
"""
