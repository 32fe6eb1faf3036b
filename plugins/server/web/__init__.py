"""The web dashboard: server-rendered pages for operators and agents."""
