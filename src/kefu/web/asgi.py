"""ASGI entry point for uvicorn: settings from the environment, read once at start-up."""

from kefu.core.settings import Settings
from kefu.web.app import create_app

app = create_app(Settings())
