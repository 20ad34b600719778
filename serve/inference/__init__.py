"""The ONNX model at serving time: the loaded session, the micro-batcher, hot reload and the
heat-map overlay."""
