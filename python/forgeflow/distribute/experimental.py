"""``ff.distribute.experimental``: ``CommunicationOptions`` (TensorFlow's
``tf.distribute.experimental.CommunicationOptions``)."""

__all__ = ["CommunicationOptions", "CommunicationImplementation"]


class CommunicationImplementation:
    """TensorFlow's names for the collective implementation. forgeflow picks it from the
    launch: MPI under mpirun, TCP for the launcher-free rendezvous (NCCL for GPU gradients), and
    always reduces in a fixed order; AUTO is the only choice."""
    AUTO = "AUTO"


class CommunicationOptions:
    """Options of the workers' communication.

    Args:
        bytes_per_pack: accepted for TensorFlow compatibility; forgeflow sums the gradient
            buffer whole (0 only).
        timeout_seconds: how long a worker may send nothing before the others stop with an
            error naming it (``ff.errors.DeadlineExceededError``). None: the environment's
            ``FORGEFLOW_DISTRIBUTE_TIMEOUT``, else 300 seconds.
        implementation: ``CommunicationImplementation.AUTO`` only.
    """

    def __init__(self, bytes_per_pack=0, timeout_seconds=None,
                 implementation=CommunicationImplementation.AUTO):
        if bytes_per_pack != 0:
            raise ValueError(f"bytes_per_pack={bytes_per_pack!r}: forgeflow sums the gradient "
                             "buffer whole; leave it at 0")
        if timeout_seconds is not None:
            if isinstance(timeout_seconds, bool) or not isinstance(timeout_seconds, (int, float)) \
                    or not timeout_seconds > 0:
                raise ValueError("timeout_seconds must be a positive number of seconds or None, "
                                 f"received {timeout_seconds!r}")
            timeout_seconds = float(timeout_seconds)
        if implementation not in (CommunicationImplementation.AUTO, "AUTO"):
            raise ValueError(f"implementation={implementation!r}: only "
                             "CommunicationImplementation.AUTO (MPI under mpirun, TCP otherwise)")
        self.bytes_per_pack = 0
        self.timeout_seconds = timeout_seconds
        self.implementation = CommunicationImplementation.AUTO
