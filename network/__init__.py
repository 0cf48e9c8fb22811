"""The network: what a saved model is and answers (saved_model: loading any H5 the scripts save with the
settings it records, its digits' probabilities, P(not a digit) when it has one, its members), the layer of
the project's own (layers: batchnorm_cv.py's fused batch normalization) and what a network looks at (view:
filters, feature maps, saliency). It imports only plumbing, Keras and NumPy: the scripts, the handwriting
package, the experiments and the benchmarks all read a model's answers through it."""
