"""The demo: the three-region story, the demo catalog and its schemas, three regional
gateways in one process.
"""
