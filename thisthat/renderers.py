"""The API's JSON renderer: camelCase keys and the bytes DRF's JSONRenderer with
djangorestframework-camel-case writes, produced by orjson.

The profile of a cached listing put a third of its CPU time in rendering: the library's `camelize`
runs a regular expression per key and rebuilds every dict, then `json.dumps` encodes in Python.
Here the key translation is memoized (keys come from serializers: a small set) and the encoding is
orjson's. What orjson would write differently is given to DRF's encoder instead, so the output is
the same byte for byte (tests/thisthat/test_renderers.py compares them):

- Decimal: as DRF does (`float(value)`); it and float written with Python's float repr (orjson's
  differs in exponents, e.g. `1e-05`); non-finite values refused as DRF's strict renderer does.
- datetime, date, time: DRF's strings (`...Z` for UTC, microseconds kept).
- anything else orjson cannot encode, or encodes differently (keys that are not strings, integers
  beyond 64 bits, nesting deeper than 254, lone surrogates): the whole body is rendered by the
  stock renderer.
- U+2028 and U+2029 are escaped, as DRF does; a pretty-printed body (`Accept: ...; indent=4`) is
  left to the stock renderer.
"""

import json
import math
from decimal import Decimal
from functools import lru_cache
from typing import Any

import orjson
from django.utils.encoding import force_str
from django.utils.functional import Promise
from djangorestframework_camel_case.render import CamelCaseJSONRenderer
from djangorestframework_camel_case.settings import api_settings as camel_settings
from djangorestframework_camel_case.util import camelize, camelize_re, underscore_to_camel
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME
_LINE_SEPARATORS = (("\u2028".encode(), b"\\u2028"), ("\u2029".encode(), b"\\u2029"))
_drf_encoder = JSONEncoder()
_PLAIN = (str, int, bool, type(None))


def _float_text(number: float) -> orjson.Fragment:
    if not math.isfinite(number):
        raise ValueError("Out of range float values are not JSON compliant")  # as DRF's strict renderer
    return orjson.Fragment(repr(number))


@lru_cache(maxsize=4096)
def _camel_key(key: str) -> str:
    return camelize_re.sub(underscore_to_camel, key) if "_" in key else key


def fast_camelize(data: Any) -> Any:
    """`djangorestframework_camel_case.util.camelize` without options: the same keys and values
    (dicts become plain dicts, lists and tuples lists: JSON cannot tell them apart), quicker."""
    if isinstance(data, dict):
        converted = {}
        for key, value in data.items():
            if isinstance(key, Promise):
                key = force_str(key)
            converted[_camel_key(key) if isinstance(key, str) else key] = (
                value if type(value) in _PLAIN else fast_camelize(value)
            )
        return converted
    if isinstance(data, (list, tuple)):
        return [item if type(item) in _PLAIN else fast_camelize(item) for item in data]
    if type(data) is float:
        return _float_text(data)
    if type(data) in _PLAIN or type(data) is Decimal:
        return data
    return camelize(data)  # lazy strings, other iterables (to lists), anything else: the library's rules


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _float_text(float(value))
    return _drf_encoder.default(value)  # datetimes, lazy strings, querysets, ...: what DRF's encoder makes of them


class JSONRenderer(DRFJSONRenderer):
    """The project's renderer (REST_FRAMEWORK's DEFAULT_RENDERER_CLASSES): camelCase keys, orjson."""

    _stock = CamelCaseJSONRenderer()

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        if (accepted_media_type and "indent" in accepted_media_type) or (renderer_context or {}).get("indent"):
            return self._stock.render(data, accepted_media_type, renderer_context)
        try:
            body = orjson.dumps(fast_camelize(data), default=_default, option=_OPTIONS)
        except orjson.JSONEncodeError:
            return self._stock.render(data, accepted_media_type, renderer_context)
        for raw, escaped in _LINE_SEPARATORS:
            if raw in body:
                body = body.replace(raw, escaped)
        return body


def render_json(data: Any) -> bytes:
    """`data` as the API renders it (for bodies kept rendered, e.g. cached pages)."""
    return JSONRenderer().render(data)


# The memoized keys follow the library's rule only when no field is set aside from it.
assert not any(camel_settings.JSON_UNDERSCOREIZE.get(option) for option in ("ignore_fields", "ignore_keys"))


class RenderedResponse(Response):
    """A 200 whose body was rendered before (a cached page), sent as it is, never rendered again.
    `data` parses it back for whoever asks (tests; a pretty-printed body, which is rendered anew)."""

    def __init__(self, body: bytes):
        super().__init__()
        self.body = body

    @property
    def data(self) -> Any:
        return json.loads(self.body)

    @data.setter
    def data(self, value: Any) -> None:
        """Response.__init__ sets it; the body is the data."""

    @property
    def rendered_content(self) -> bytes:
        context = getattr(self, "renderer_context", None) or {}
        if (
            type(self.accepted_renderer) is JSONRenderer
            and not context.get("indent")
            and ("indent" not in (self.accepted_media_type or ""))
        ):
            self["Content-Type"] = self.accepted_renderer.media_type
            return self.body
        return super().rendered_content
