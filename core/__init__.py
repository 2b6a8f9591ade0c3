"""Core types, errors, events and the clock: the bottom layer of schoolwatch."""
