"""The record and commitment lifecycle: relayed steps, commitments, instruction checks, the
vocabulary.
"""
