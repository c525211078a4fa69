"""The local emulator: the real template, state machine and handlers on moto, in one process.

    python -m sweeper_emulator run --inventory FILE [--config FILE] [--input JSON] [--result FILE]

Layers, each importing only from itself and those above it (docs/emulator.md, "Module map"):

inventory.py   the inventory file format (pydantic models); template.py reads template.yaml
wire.py        answering a botocore request ourselves, and the hook just before moto's
faults.py      counts API calls and injects the faults an inventory asks for
served/        the APIs moto lacks, answered by the emulator (App Runner, Inspector)
moto_patches/  moto changed where it differs from AWS (ECR details, paging, the Map's results)
loaders/       the inventory put into moto, one module per source
runtime.py     deploys the stack on moto and runs Lambda invocations in-process
               (artifact_mode.py: from the sam build output; stack_record.py: DescribeStacks)
emulator.py    one run, end to end, giving a result file
"""
