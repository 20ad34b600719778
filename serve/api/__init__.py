"""The HTTP surface: routes, the shapes of their bodies, the OpenAPI additions, API keys,
body limits and the FastAPI dependencies that hand routes the app's shared objects."""
