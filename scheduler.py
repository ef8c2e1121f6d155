"""When to look at the timeline: APScheduler wakes the bot at each moment the database names.

The database is the truth. Jobs hold no state: each one only calls `reminders.fire_due`, which
does whatever is due, once. They are rebuilt from the tables at start-up and after every change
to a phase or a deadline, and a sweep every minute covers anything else (a clock moved ahead).
"""

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from models import Database
from models.utc import utcnow
from services import reminders

log = logging.getLogger(__name__)

SWEEP = timedelta(minutes=1)
SWEEP_JOB = "sweep"
MOMENT_JOB = "moment:"  # + the moment in ISO format: a stable id per moment


class TimelineScheduler:
    def __init__(
        self,
        *,
        database: Database,
        offsets: tuple[timedelta, ...],
        grace: timedelta,
        organiser_ids: frozenset[int],
        clock: Callable[[], datetime],
        wake_outbox: Callable[[], None],
    ) -> None:
        self.database = database
        self.offsets = offsets
        self.grace = grace
        self.organiser_ids = organiser_ids
        self.clock = clock
        self.wake_outbox = wake_outbox
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        # One look at a time: two jobs due together would only wait on each other's lock.
        self._looking = asyncio.Lock()

    async def start(self) -> None:
        self._scheduler.start()
        self._scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=SWEEP.total_seconds()),
            id=SWEEP_JOB,
            replace_existing=True,  # started again after a replica wins back the lead
        )
        await self.tick()  # whatever fell due while the bot was down

    def stop(self) -> None:
        self._scheduler.shutdown(wait=False)

    async def tick(self) -> None:
        """Do what is due, then arm the next moments."""
        async with self._looking:
            try:
                async with self.database.transaction() as session:
                    fired = await reminders.fire_due(
                        session=session,
                        now=self.clock(),
                        offsets=self.offsets,
                        grace=self.grace,
                        organiser_ids=self.organiser_ids,
                    )
            except Exception:
                log.exception("the timeline could not be looked at; the sweep tries again")
                return
            if fired.reminded or fired.phases_started or fired.closed:
                log.info(
                    "timeline: %d organisations reminded, phases started %s, appeals closed %s",
                    fired.reminded, fired.phases_started, fired.closed,
                )  # fmt: skip
                self.wake_outbox()
        await self._rearm()

    async def _rearm(self) -> None:
        """One job per future moment in the tables; none for moments that no longer exist."""
        now = self.clock()
        async with self.database.reading() as session:
            moments = await reminders.next_moments(session=session, now=now, offsets=self.offsets)
        # The bot's clock may run ahead of the machine's (the sandbox moves it): jobs run on
        # the machine's clock.
        ahead = now - utcnow()
        wanted = {f"{MOMENT_JOB}{moment.isoformat()}": moment - ahead for moment in moments}
        for job in self._scheduler.get_jobs():
            if job.id.startswith(MOMENT_JOB) and job.id not in wanted:
                job.remove()
        for job_id, run_at in wanted.items():
            self._scheduler.add_job(
                self.tick,
                DateTrigger(run_date=run_at),
                id=job_id,
                replace_existing=True,
                misfire_grace_time=None,  # late is still worth doing: fire_due decides
                coalesce=True,
            )
