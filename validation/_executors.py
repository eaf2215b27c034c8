"""Where the runs of a sweep execute: this process, a process pool, or Dask.

Every executor takes a run configuration as a plain dict and gives back the
record as a plain dict (:func:`execute_run`), so that nothing but JSON-like
data crosses a process or network boundary and workers need no shared disk:
the driver alone writes records.
"""

from __future__ import annotations

import abc
import concurrent.futures as cf
import logging
import multiprocessing
import os
from collections.abc import Iterator
from typing import Any

from sigprop._errors import SigpropError

__all__ = [
    "Executor",
    "LocalExecutor",
    "DaskExecutor",
    "SchedulerUnreachableError",
    "execute_run",
]

logger = logging.getLogger(__name__)


class SchedulerUnreachableError(SigpropError, ConnectionError):
    """A Dask scheduler that did not answer within the timeout."""


def execute_run(config: dict[str, Any]) -> dict[str, Any]:
    """Run one configuration and return its record as a dict (worker side)."""
    from ._config import RunConfig
    from ._runs import run_experiment

    return run_experiment(RunConfig.from_dict(config)).to_dict()


class Executor(abc.ABC):
    """The interface of an executor (subclass it for another backend).

    ``submit`` starts a run and returns a handle; ``as_completed`` yields the
    handles as their runs finish; ``result`` gives a finished run's record
    dict or raises its exception; ``running`` counts runs in flight; ``close``
    stops the backend (cancelling what has not started).
    """

    #: A short description for logs and reports.
    description = "executor"

    @abc.abstractmethod
    def submit(self, config: dict[str, Any]) -> Any:
        """Start the run of a configuration dict; return a handle."""

    @abc.abstractmethod
    def as_completed(self, handles: list[Any]) -> Iterator[Any]:
        """Yield ``handles`` as their runs finish."""

    @abc.abstractmethod
    def result(self, handle: Any) -> dict[str, Any]:
        """The record dict of a finished run, or its exception raised."""

    def running(self, handles: list[Any]) -> int:
        """How many of ``handles`` are running now (best effort)."""
        return 0

    def cancel(self, handles: list[Any]) -> None:
        """Drop runs that have not finished (best effort)."""
        return None

    def close(self, *, cancel: bool = False) -> None:
        """Release the backend; ``cancel`` drops runs not yet finished."""
        return None

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close(cancel=exc[0] is not None)


class _Deferred:
    """A run of the in-process executor: executed when it is waited for."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.value: dict[str, Any] | None = None
        self.error: BaseException | None = None


class LocalExecutor(Executor):
    """Runs in this process (``jobs=1``) or in a pool of ``jobs`` processes.

    Parameters
    ----------
    jobs : int, default 1
        ``1`` runs every configuration in this process, one after the other;
        more starts a pool of that many worker processes (``spawn``, so that
        no torch thread pool is inherited through ``fork``).
    """

    def __init__(self, jobs: int = 1) -> None:
        if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
            raise SigpropError(f"`jobs` must be an integer >= 1; got {jobs!r}.")
        self.jobs = jobs
        self._pool: cf.ProcessPoolExecutor | None = None
        if jobs > 1:
            self._pool = cf.ProcessPoolExecutor(
                max_workers=jobs, mp_context=multiprocessing.get_context("spawn")
            )
        self.description = (
            "this process" if jobs == 1 else f"a pool of {jobs} processes"
        )

    def submit(self, config: dict[str, Any]) -> Any:
        if self._pool is None:
            return _Deferred(config)
        return self._pool.submit(execute_run, config)

    def as_completed(self, handles: list[Any]) -> Iterator[Any]:
        if self._pool is None:
            for h in list(handles):
                self._current = h
                try:
                    h.value = execute_run(h.config)
                except Exception as exc:  # noqa: BLE001 - handed to result()
                    h.error = exc
                finally:
                    self._current = None
                yield h
            return
        yield from cf.as_completed(list(handles))

    def result(self, handle: Any) -> dict[str, Any]:
        if isinstance(handle, _Deferred):
            if handle.error is not None:
                raise handle.error
            assert handle.value is not None
            return handle.value
        return handle.result()  # type: ignore[no-any-return]

    def running(self, handles: list[Any]) -> int:
        if self._pool is None:
            return 1 if getattr(self, "_current", None) is not None else 0
        return sum(1 for h in handles if h.running())

    def cancel(self, handles: list[Any]) -> None:
        for h in handles:
            if isinstance(h, cf.Future):
                h.cancel()

    def close(self, *, cancel: bool = False) -> None:
        if self._pool is None:
            return
        pool, self._pool = self._pool, None
        if cancel:
            # Runs in flight are lost anyway (their records are never half
            # written); end the workers now rather than after their runs.
            procs = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for p in procs:
                if p.is_alive():
                    p.terminate()
            for p in procs:
                p.join(timeout=5)
        else:
            pool.shutdown(wait=True)


class DaskExecutor(Executor):
    """Sends runs to a ``dask.distributed`` cluster.

    Parameters
    ----------
    address : str, optional
        Address of a running scheduler (``tcp://host:8786``).
    client : dask.distributed.Client, optional
        An existing client instead (it is not closed by :meth:`close`).
    timeout : float, default 10
        Seconds to wait for the scheduler before
        :class:`SchedulerUnreachableError`.

    Notes
    -----
    Each run is one task; a worker needs sigprop with the validation extra
    installed, nothing else (no shared disk). On a machine with several GPUs
    start one worker per GPU (``CUDA_VISIBLE_DEVICES`` per worker) and keep
    ``device = "auto"`` in the sweep.
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        client: Any = None,
        timeout: float = 10.0,
        _cluster: Any = None,
    ) -> None:
        try:
            from dask.distributed import Client
        except ImportError as exc:
            raise ImportError(
                "the Dask executor needs dask.distributed "
                "(pip install 'sigprop[validation]')."
            ) from exc
        if (address is None) == (client is None) and _cluster is None:
            raise SigpropError("give exactly one of `address` and `client`.")
        if not (isinstance(timeout, (int, float)) and timeout > 0):
            raise SigpropError(f"`timeout` must be a number > 0; got {timeout!r}.")
        self._cluster = _cluster
        self._owns_client = client is None
        if client is None:
            target = _cluster if _cluster is not None else address
            try:
                client = Client(target, timeout=f"{float(timeout)}s",
                                set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise SchedulerUnreachableError(
                    f"could not reach the Dask scheduler at {address!r} within "
                    f"{timeout:g} s ({type(exc).__name__}: {exc}); check that "
                    "`dask scheduler` runs there and the address is right."
                ) from exc
        self.client = client
        where = address or getattr(_cluster, "scheduler_address", None) or str(client)
        self.description = f"Dask at {where}"

    @classmethod
    def local(
        cls,
        n_workers: int | None = None,
        *,
        processes: bool = True,
        threads_per_worker: int = 1,
    ) -> DaskExecutor:
        """Start a ``LocalCluster`` (closed with the executor).

        ``n_workers`` defaults to the machine's cores; one thread per worker,
        since each run pins torch's threads itself.
        """
        from dask.distributed import LocalCluster

        n = n_workers if n_workers is not None else (os.cpu_count() or 1)
        cluster = LocalCluster(
            n_workers=n, threads_per_worker=threads_per_worker,
            processes=processes, dashboard_address=None,
        )
        try:
            return cls(_cluster=cluster)
        except BaseException:
            cluster.close()
            raise

    def submit(self, config: dict[str, Any]) -> Any:
        return self.client.submit(execute_run, config, pure=False)

    def as_completed(self, handles: list[Any]) -> Iterator[Any]:
        from dask.distributed import as_completed

        yield from as_completed(list(handles), loop=self.client.loop)

    def result(self, handle: Any) -> dict[str, Any]:
        return handle.result()  # type: ignore[no-any-return]

    def running(self, handles: list[Any]) -> int:
        try:
            processing = self.client.processing()
        except Exception:  # noqa: BLE001 - only for the progress bar
            return 0
        return sum(len(v) for v in processing.values())

    def cancel(self, handles: list[Any]) -> None:
        if self.client is not None and handles:
            self.client.cancel(handles)

    def close(self, *, cancel: bool = False) -> None:
        if self.client is None:
            return
        if self._owns_client:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
        self.client = None
