"""Pure numerical core of xlmrio (no Excel imports): one module per method family."""
