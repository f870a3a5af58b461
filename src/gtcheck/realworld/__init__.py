"""Checking real applications (issue 10): a boto3 recorder, a local multi-region DynamoDB
emulator built on moto that replicates by the model's own rules, and a workload runner.

Layer: above the model and the checker (it may import both, and the kernel), below the
command line. See docs/emulator.md.
"""
