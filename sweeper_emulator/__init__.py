"""The local emulator: the real template, state machine and handlers on moto, in one process.

    python -m sweeper_emulator run --inventory FILE [--config FILE] [--input JSON] [--result FILE]

template.py   reads template.yaml and resolves the intrinsics it uses
inventory.py  the inventory file format, and loading it into the mocked account
ecr_model.py  the ECR details moto lacks (pull times, status, referrers, paging, ...)
runtime.py    deploys the stack on moto and runs Lambda invocations in-process
stack_record.py  the stack as CloudFormation's DescribeStacks shows it: parameters, outputs
faults.py     counts API calls and injects the faults an inventory asks for
emulator.py   one run, end to end, giving a result file
"""
