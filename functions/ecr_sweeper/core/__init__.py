"""The pure core: plain Python over plain data. Nothing here imports boto3."""
