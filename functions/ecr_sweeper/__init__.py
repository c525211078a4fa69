"""ecr-sweeper: delete the ECR images that nothing uses.

core/      pure decision logic (config, image references, in-use set, policy): no boto3
adapters/  one small module per AWS API the workflow reads or writes
handlers/  the Lambda entry points: parse the event, call the core, return a model
"""
