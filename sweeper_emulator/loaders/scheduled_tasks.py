"""The inventory's scheduled ECS tasks: EventBridge rules (`eventbridge_rules`) and
EventBridge Scheduler schedules (`schedules`) whose target runs a task. moto serves both
services; the loader only creates the resources, through their APIs."""

from __future__ import annotations

import json
from typing import Any

import boto3

from sweeper_emulator.inventory import EventBridgeRule, Schedule
from sweeper_emulator.loaders.iam import role_arn

EVENTS_ROLE = "emulated-events"


def _cluster_arn(account: str, region: str, cluster: str) -> str:
    return f"arn:aws:ecs:{region}:{account}:cluster/{cluster}"


def load_scheduled_tasks(
    rules: list[EventBridgeRule], schedules: list[Schedule], account: str, region: str
) -> None:
    """EventBridge rules and Scheduler schedules that run an ECS task."""
    if not rules and not schedules:
        return
    session = boto3.Session(region_name=region)
    role = role_arn(session, EVENTS_ROLE)
    events = session.client("events")
    buses = {"default"}
    for rule in rules:
        if rule.event_bus not in buses:
            events.create_event_bus(Name=rule.event_bus)
            buses.add(rule.event_bus)
        # As in AWS, only the default bus takes a schedule; elsewhere, an event pattern.
        trigger = (
            {"ScheduleExpression": "rate(1 hour)"}
            if rule.event_bus == "default"
            else {"EventPattern": json.dumps({"source": ["emulated.schedule"]})}
        )
        events.put_rule(Name=rule.name, EventBusName=rule.event_bus, State=rule.state, **trigger)
        events.put_targets(
            Rule=rule.name,
            EventBusName=rule.event_bus,
            Targets=[
                {
                    "Id": "ecs-task",
                    "Arn": _cluster_arn(account, region, rule.cluster),
                    "RoleArn": role,
                    "EcsParameters": {"TaskDefinitionArn": rule.task_definition, "TaskCount": 1},
                }
            ],
        )
    scheduler = session.client("scheduler")
    groups = {"default"}
    for schedule in schedules:
        if schedule.group not in groups:
            scheduler.create_schedule_group(Name=schedule.group)
            groups.add(schedule.group)
        cluster = _cluster_arn(account, region, schedule.cluster)
        target: dict[str, Any] = {"RoleArn": role}
        if schedule.universal:
            target["Arn"] = "arn:aws:scheduler:::aws-sdk:ecs:runTask"
            target["Input"] = json.dumps(
                {"Cluster": cluster, "TaskDefinition": schedule.task_definition}
            )
        else:
            target["Arn"] = cluster
            target["EcsParameters"] = {"TaskDefinitionArn": schedule.task_definition}
        scheduler.create_schedule(
            Name=schedule.name,
            GroupName=schedule.group,
            ScheduleExpression="rate(1 hour)",
            FlexibleTimeWindow={"Mode": "OFF"},
            State=schedule.state,
            Target=target,
        )
