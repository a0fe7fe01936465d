"""Pseudonymisation secrets and the two levels of pseudonyms (ARCHITECTURE rule 7).

A file key store outside the lake and the database holds two independent,
versioned master secrets: ``level1`` (the pseudonymisation service's secret,
turning NIR + birth date + sex into the lake's person pseudonym) and
``projects`` (from which each project's key is derived with HKDF). See
docs/adr/0009-preparation-and-pseudonymisation.md.
"""
