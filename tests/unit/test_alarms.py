"""Every alarm the operators rely on exists and publishes to the notification topic."""

from pathlib import Path

import pytest

from sweeper_emulator.template import load_template

TEMPLATE = load_template(Path(__file__).resolve().parents[2] / "template.yaml")
ALARMS = {
    k: v["Properties"]
    for k, v in TEMPLATE["Resources"].items()
    if v["Type"] == "AWS::CloudWatch::Alarm"
}


def _by_metric(namespace: str, name: str) -> dict:
    found = [
        a
        for a in ALARMS.values()
        if a.get("Namespace") == namespace and a.get("MetricName") == name
    ]
    assert len(found) == 1, (namespace, name, list(ALARMS))
    return found[0]


@pytest.mark.parametrize("metric", ["ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"])
def test_failed_timed_out_and_aborted_runs_alarm(metric):
    alarm = _by_metric("AWS/States", metric)
    assert alarm["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": "StateMachine"}}]
    assert alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["AlarmActions"] == [{"Ref": "NotificationTopic"}]


def test_no_success_within_the_parameterised_days_alarms_and_missing_data_breaches():
    alarm = _by_metric("AWS/States", "ExecutionsSucceeded")
    assert alarm["Period"] == 86400
    assert alarm["EvaluationPeriods"] == {"Ref": "NoSuccessAlarmDays"}
    assert alarm["DatapointsToAlarm"] == {"Ref": "NoSuccessAlarmDays"}
    assert alarm["ComparisonOperator"] == "LessThanThreshold" and alarm["Threshold"] == 1
    assert alarm["TreatMissingData"] == "breaching"
    assert alarm["AlarmActions"] == [{"Ref": "NotificationTopic"}]


def test_lambda_errors_of_every_function_alarm():
    (alarm,) = [a for a in ALARMS.values() if "Metrics" in a]
    functions = {
        m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"]
        for m in alarm["Metrics"]
        if "MetricStat" in m
    }
    declared = {
        k for k, v in TEMPLATE["Resources"].items() if v["Type"] == "AWS::Serverless::Function"
    }
    assert functions == declared
    assert alarm["AlarmActions"] == [{"Ref": "NotificationTopic"}]


def test_the_schedule_dead_letter_queue_alarms():
    queue_alarms = [a for a in ALARMS.values() if a.get("Namespace") == "AWS/SQS"]
    assert queue_alarms and all(
        a["AlarmActions"] == [{"Ref": "NotificationTopic"}] for a in queue_alarms
    )
