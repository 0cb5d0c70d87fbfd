"""Test support: helpers, fixtures, the scripted fake model and the Ollama-API test server (not tests)."""
