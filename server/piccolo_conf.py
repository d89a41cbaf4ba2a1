"""Piccolo's configuration: the engine chosen by settings, the kernel's tables and each
installed plugin's (in dependency order, so their migrations run in it)."""

from piccolo.conf.apps import AppRegistry

from server import plugins
from server.db import build_engine

DB = build_engine()

APP_REGISTRY = AppRegistry(
    apps=["server.piccolo_app", *(plugin.piccolo_app for plugin in plugins.load())]
)
