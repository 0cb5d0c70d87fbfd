"""Chat models behind one small interface, resolved from strings ('llamacpp:smollm2-135m', 'ollama:<name>')."""
