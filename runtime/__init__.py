"""aeonnx runtime: run the exported autoencoders with onnxruntime, no TensorFlow."""
