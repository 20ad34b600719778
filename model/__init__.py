"""counterscan.model"""
