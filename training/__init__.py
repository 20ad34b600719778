"""counterscan.training"""
