"""Teachers' reviews of items: where they are stored, and the training data made from them."""
