"""Scenarios: the only layer that knows YAML and pydantic.

``schema`` declares the scenario file (generated from the mechanisms' ``Params``
declarations), ``io`` loads files with ``base:`` inheritance and turns every problem into a
clear message, and ``build`` turns a validated scenario into a runnable ``core.Model``.
"""
