"""The model: a case, a decision, and the registry of input facts they are made of."""
