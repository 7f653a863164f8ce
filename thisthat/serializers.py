from collections.abc import Mapping

from rest_framework import serializers


class InputSerializer(serializers.Serializer):
    """Base for request bodies: text fields take JSON strings only (DRF would turn 123 into "123")."""

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
