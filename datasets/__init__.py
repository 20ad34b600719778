"""counterscan.datasets"""
