"""The viewer web app (FastAPI, Jinja2)."""
