"""Measurements: each module measures one kind of quantity and returns Measurement records."""
