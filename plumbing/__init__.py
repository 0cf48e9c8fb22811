"""What the stage scripts need around the tutorial, none of it the tutorial itself.

  quiet     TensorFlow's start-up notes off (imported before Keras)
  cli       one-line errors for the user's mistakes, shared command-line flags
  files     atomic writes, figures, models, the local MNIST file
  progress  one line per epoch with the time left; what the run trains on
  scores    scores.json: the folds a CV run finished, and --resume
"""
