"""Registering task bodies on a Huey instance under names that stay the same across releases.

Huey identifies a task by ``<module>.<name>`` of its function; a task queued by one release must
still be found by the next (a Redis queue outlives an upgrade), so every task is registered in
the ``archive_analyzer.jobs.tasks`` namespace wherever its body lives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from huey import Huey
from huey.api import TaskWrapper

NAMESPACE = "archive_analyzer.jobs.tasks"


def task(huey: Huey, name: str, body: Callable[..., None], **options: Any) -> TaskWrapper:
    """Register ``body`` as task ``name`` (Huey task options: retries, context ...)."""
    wrapper: TaskWrapper = huey.task(name=name, **options)(_named(body, name))
    return wrapper


def periodic(huey: Huey, name: str, body: Callable[[], None], when: Any) -> TaskWrapper:
    """Register ``body`` as periodic task ``name``, run by the consumer at ``when`` (crontab)."""
    wrapper: TaskWrapper = huey.periodic_task(when, name=name)(_named(body, name))
    return wrapper


def _named(body: Callable[..., None], name: str) -> Callable[..., None]:
    def run(*args: Any, **kwargs: Any) -> None:
        body(*args, **kwargs)

    run.__module__ = NAMESPACE
    run.__name__ = run.__qualname__ = name
    run.__doc__ = body.__doc__
    return run
