"""The ASGI entry point uvicorn serves: `server.asgi:app`."""

from server.app import create_app

app = create_app()
