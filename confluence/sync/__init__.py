"""The sync engine: queue a run, read Confluence, plan, render, commit one tree to GitHub."""
