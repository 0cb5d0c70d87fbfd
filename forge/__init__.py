"""The application: settings, CLI, storage, trace store and benchmarks, wired on top of graphs and agents."""
