"""Media layer: probing, validation, streaming frame I/O, audio decoding, muxing."""
