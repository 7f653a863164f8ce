"""The API's JSON parser: camelCase keys to snake_case (djangorestframework-camel-case), with two
guards that json.loads lacks.

- Depth: a body nested deeper than MAX_DEPTH is refused (400 VALIDATION_ERROR) before it is
  parsed; Python's parser would recurse once per level and fail with a RecursionError (a 500).
  The depth is measured without recursion: strings are cut out, then the running sum of the
  remaining brackets is taken with C-level builtins.
- Numbers: JSON numbers with a fraction or an exponent are parsed as Decimal, never float (credits
  must not pass through binary floating point), and one written with an exponent (`1e3`) becomes an
  ExponentNumber, so amount fields (thisthat.serializers.PlainDecimalField) can refuse it: after
  parsing, `1e3` and `1000` would otherwise be indistinguishable. NaN and Infinity are refused.
"""

import json
import re
from decimal import Decimal
from itertools import accumulate

from django.conf import settings
from djangorestframework_camel_case.parser import CamelCaseJSONParser
from djangorestframework_camel_case.util import underscoreize
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_BRACKET_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class ExponentNumber(Decimal):
    """A JSON number written with an exponent (e.g. 1e3): a Decimal, marked so amounts can refuse it."""


def _parse_float(text: str) -> Decimal:
    return ExponentNumber(text) if "e" in text or "E" in text else Decimal(text)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def nested_too_deep(text: str) -> bool:
    """Whether arrays and objects in `text` nest deeper than MAX_DEPTH, found without recursion."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:  # too few brackets to be too deep
        return False
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0) > MAX_DEPTH


class JSONParser(CamelCaseJSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        if nested_too_deep(text):
            raise ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.")
        try:
            data = json.loads(text, parse_float=_parse_float, parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as exc:  # RecursionError: malformed text the depth scan misread
            raise ParseError(f"JSON parse error - {exc}") from exc
        return underscoreize(data, **self.json_underscoreize)
