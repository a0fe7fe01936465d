"""The citizens' portal: public pages, objections, rights requests."""
