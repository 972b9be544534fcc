""""Did it learn?": fact recall on held-out questions, base vs tuned, per document."""
