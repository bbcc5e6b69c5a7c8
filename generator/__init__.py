"""Realistic, reproducible synthetic traffic for the analytics pipeline, with its truth.

>>> from generator import GeneratorConfig, generate
>>> generation = generate(GeneratorConfig(days=1, scale=0.05))
>>> entries = list(generation)          # GeneratedEntry, in stream order
>>> generation.truth.web.sessions       # what the marts must report

See docs/generator.md.
"""

from generator.config import GeneratorConfig
from generator.core import Generation, generate
from generator.delivery import GeneratedEntry
from generator.stream import push_to_stream
from generator.truth import AiTruth, Truth, WebTruth, WhatsAppTruth

__all__ = [
    "AiTruth",
    "GeneratedEntry",
    "Generation",
    "GeneratorConfig",
    "Truth",
    "WebTruth",
    "WhatsAppTruth",
    "generate",
    "push_to_stream",
]
