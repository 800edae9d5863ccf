"""Standing: red and black lists, joint measures and signed credit reports."""
