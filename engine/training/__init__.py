"""Training: batches, the training loop with its events, checkpoints."""
