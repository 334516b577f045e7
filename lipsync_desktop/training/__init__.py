"""Scripts that train the small models the built-in engine ships (data stays in ../shared)."""
