"""Benchmarks that print figures (`forge bench ...`): quality, speed and sessions. Goals live here, not in tests."""
