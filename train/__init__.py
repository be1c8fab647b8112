"""aeonnx training: Keras 3 (TensorFlow backend) models of the autoencoders. Needs the [train] extra."""
