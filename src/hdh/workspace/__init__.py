"""Project workspaces: a sealed space per authorised project, its SQL console and batch jobs.

The modules ``sandbox``, ``sql`` and ``sqljob`` import no Django: they also run
inside the job sandbox and under ``hdh run`` on a researcher's own machine.
"""
