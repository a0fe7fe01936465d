"""Data preparation: from a permit to a pseudonymised, objection-free project dataset.

The objection register, the extraction plan compiled from a permit, the runner
that executes it on any engine, and the data engineer's pages. See
docs/adr/0009-preparation-and-pseudonymisation.md.
"""
