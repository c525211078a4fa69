"""Lambda entry points, one module per function of the state machine."""
