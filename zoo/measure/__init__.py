"""Measurements: one module or subpackage per quantity, each returning Measurement records.

``params``, ``flops`` and ``config`` need only the built model; ``throughput/`` and
``accuracy/`` run it; ``weights`` wraps :mod:`zoo.weights` (fetch, verify, load);
``device`` resolves the device both runners use.
"""
