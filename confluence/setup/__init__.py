"""Connecting a site: the wizard's steps, the scope editor, readiness and the Connectors card."""
