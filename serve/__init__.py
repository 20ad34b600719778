"""counterscan.serve"""
