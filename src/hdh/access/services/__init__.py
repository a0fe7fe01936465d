"""Every write of the guichet. Views, the API, the CLI and the demo call these."""
