"""Settings of the bare DRF view that `make loadtest` measures beside the project (bench/bare_urls.py).

The stack without the application: Django and DRF with DRF's stock JSON rendering and
djangorestframework-camel-case (the API's renderer before thisthat.renderers, which writes the same
bytes with orjson), but no database, no authentication, no throttling and no middleware. Served by the same
WSGI entry point (thisthat.wsgi) under the same gunicorn configuration, so the ratio of a scenario
to this view is the share of the stack's speed the application keeps.
"""

import os

SECRET_KEY = os.environ.get("SECRET_KEY", "bare-view-not-secret-" + "x" * 40)
DEBUG = False
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
INSTALLED_APPS = ["rest_framework"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.bare_urls"
DATABASES: dict = {}
USE_TZ = True
TIME_ZONE = "UTC"
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_THROTTLE_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["djangorestframework_camel_case.render.CamelCaseJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["djangorestframework_camel_case.parser.CamelCaseJSONParser"],
    "COERCE_DECIMAL_TO_STRING": False,
    "UNAUTHENTICATED_USER": None,
}
JSON_CAMEL_CASE = {"JSON_UNDERSCOREIZE": {"no_underscore_before_number": True}}
LOGGING_CONFIG = None
