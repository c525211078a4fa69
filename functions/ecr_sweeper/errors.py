"""Typed errors. The class name becomes the Step Functions error name, so the
state machine can tell permanent failures (never retried) from transient ones."""


class SweeperError(Exception):
    """Base class: a permanent failure the workflow must not retry."""


class ConfigError(SweeperError):
    """The config file is missing or invalid. Raised before anything is read or deleted."""


class InvalidExecutionInput(SweeperError):
    """The execution input does not match the documented schema."""


class SourceReadError(SweeperError):
    """A source of "in use" could not be read: the run must delete nothing."""


class RunDataError(SweeperError):
    """Run data in S3 is missing or malformed (e.g. a step ran out of order)."""


class RunDataMismatch(SweeperError):
    """Run data in S3 is not what its step wrote: its SHA-256 differs from the one the
    state machine carried, or it names what was never approved. Nothing in it is used."""


class DeleteFailed(SweeperError):
    """BatchDeleteImage reported failures other than ImageNotFound."""


class DeletionCapExceeded(SweeperError):
    """The plans would delete more than safety.max_deletions images: nothing is deleted."""


class NothingInUse(SweeperError):
    """Sources are configured but the scan found no image in use: probably a blind scan."""


class RunInProgress(SweeperError):
    """Another deleting run holds the run lock, in this stack or in another ecr-sweeper
    stack of the same account and region: two runs never delete at once."""


class DeletingRunsForbidden(SweeperError):
    """The stack was deployed with AllowDeletingRuns=false: a run that would delete (by
    its input or by the DryRun default) is refused before anything is read."""


class RepositoriesFailed(SweeperError):
    """One or more repositories did not finish; the run is marked FAILED."""


class TransientAwsError(Exception):
    """AWS kept throttling or failing after botocore's own retries. Not a SweeperError:
    the state machine retries it with backoff (see the Retry blocks in the ASL)."""


class AwsRequestError(SweeperError):
    """AWS refused a request for a reason retrying cannot fix (access denied, not found...)."""
