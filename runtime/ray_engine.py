"""Kept at this path because users import it (`aeonnx.runtime.ray_engine.Encoder`): it lives in jobs/ray_engine.py."""

from .jobs.ray_engine import Decoder, Encoder, RayEngine

__all__ = ["Decoder", "Encoder", "RayEngine"]
