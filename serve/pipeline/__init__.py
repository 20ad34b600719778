"""The scoring use case: what happens to each submitted image, from admission to the answer."""
