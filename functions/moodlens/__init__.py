"""Moodlens: face emotion recognition served as HTTP functions.

Packages, each depending only on those listed before it:
settings, modelcard, ops -> predict (the pipeline) -> accounts, history (storage) -> services (builds the active
storage and accounts from the settings) -> api (HTTP: parses requests, composes predict-then-save) -> app (every
function and the pages in one process).
"""
