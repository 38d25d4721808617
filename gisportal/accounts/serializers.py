"""Answers of the accounts API."""

from __future__ import annotations

from rest_framework import serializers


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField(), help_text="planners, surveyors, partners")
