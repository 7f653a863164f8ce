import re
from collections.abc import Mapping
from decimal import Decimal

from rest_framework import serializers

from .parsers import ExponentNumber

_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


class InputSerializer(serializers.Serializer):
    """Base for request bodies and query strings: text fields take JSON strings only (DRF would turn
    123 into "123"), and a refused choice names the allowed values."""

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            if isinstance(field, serializers.ChoiceField):
                allowed = ", ".join(f'"{choice}"' for choice in field.choices if choice != "")
                # DRF formats the message with str.format(input=...): braces in a value stay literal.
                allowed = allowed.replace("{", "{{").replace("}", "}}")
                field.error_messages["invalid_choice"] = f'"{{input}}" is not a valid choice; allowed: {allowed}.'
        return fields

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            errors = {
                name: ["Not a valid string."]
                for name, field in self.fields.items()
                if isinstance(field, serializers.CharField)
                and not field.read_only
                and data.get(name) is not None
                and not isinstance(data[name], str)
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class PlainDecimalField(serializers.DecimalField):
    """An amount, odds or value in a request: a JSON number, or a string in plain decimal notation
    ("10", "10.50", "-3"). Refused: exponents (also as a JSON number: the parser marks those), "_",
    non-ASCII digits, spaces, "NaN"/"Infinity", booleans. Python's Decimal() would take them all.
    By default any precision gets through; the business rules judge it (e.g. INVALID_BET_AMOUNT)."""

    default_error_messages = {"invalid": "A number in plain decimal notation is required, like 10 or 10.50."}

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", None)
        kwargs.setdefault("decimal_places", None)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str):
            if not _PLAIN_DECIMAL.fullmatch(data):
                self.fail("invalid")
        elif isinstance(data, bool | ExponentNumber) or not isinstance(data, int | Decimal):
            self.fail("invalid")
        return super().to_internal_value(data)
