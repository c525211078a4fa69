"""ecr-sweeper: delete the ECR images that nothing uses.

core/      pure decision logic (config, image references, in-use set, policy): no boto3
adapters/  one small module per AWS API the workflow reads or writes
handlers/  the Lambda entry points: parse the event, call the core, return a model
"""

# The one place the version is written: pyproject.toml reads it (setuptools dynamic), and
# the Lambda artifact, where the package is not an installed distribution, has it too.
__version__ = "0.1.0"
