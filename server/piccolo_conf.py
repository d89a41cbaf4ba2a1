"""Piccolo's configuration: the engine chosen by settings and every app's tables."""

from piccolo.conf.apps import AppRegistry

from server.db import build_engine

DB = build_engine()

APP_REGISTRY = AppRegistry(
    apps=[
        "server.piccolo_app",
        "community.piccolo_app",
        "gamification.piccolo_app",
    ]
)
