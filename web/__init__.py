"""The schoolwatch web app (FastAPI, server-rendered, no JavaScript build)."""
