"""Training, evaluation and benchmarks for the Moodlens models (Keras 3, any backend)."""
