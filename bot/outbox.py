"""The outbox worker: sends queued bulk messages within Telegram's limits, records each fate.

Its sends draw from the process's one Telegram budget (bot/budget.py) in the bulk lane, so they
take what answers to people leave free, and it has its own HTTP connection pool. A row is
marked sent only after Telegram confirmed it; after a crash, the rows that were in flight (at
most `concurrency`) may be sent once more, and nothing else is repeated or lost.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

from markupsafe import Markup
from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.budget import Lane, TelegramBudget
from foundation.i18n import Texts
from foundation.metrics import Metrics
from models import Database, OutboxKind
from rendering.announcements import render_announcement, render_closing, render_reconfirmation
from rendering.broadcasts import Pace, render_broadcast, render_progress, render_report
from rendering.timeline import render_deadline_report, render_phase_start, render_reminder
from services import accounts, broadcasts, outbox, progress
from services.outbox import DueMessage
from services.payloads import (
    CountPayload,
    PhaseStartPayload,
    ReconfirmationPayload,
    ReminderPayload,
)
from services.progress import Tally, Tracked

log = logging.getLogger(__name__)

# Transient failures (5xx, network) are retried after 2, 4, 8, 16 s, then reported failed.
MAX_ATTEMPTS = 5
BACKOFF = timedelta(seconds=2)
IDLE_POLL = 1.0  # seconds between looks at the table when nobody wakes the worker
# Seconds between two edits of a progress message: often enough to see it move, well within
# Telegram's one message (edits included) a second to a chat. The final figures may follow the
# last edit sooner, after FINAL_AFTER, so that a short send is reported at once.
PROGRESS_EVERY = 3.0
FINAL_AFTER = 1.0
# A progress message its handler has not sent by then (it crashed) is sent by the worker.
UNSENT_AFTER = timedelta(seconds=30)


class OutboxWorker:
    def __init__(
        self,
        *,
        database: Database,
        bot: ExtBot[Lane],
        texts: dict[str, Texts],
        default_language: str,
        default_timezone: str,
        budget: TelegramBudget,
        paid: bool,
        concurrency: int,
        clock: Callable[[], datetime],
        metrics: Metrics,
    ) -> None:
        self.database = database
        self.bot = bot
        self.texts = texts
        self.default_language = default_language
        self.default_timezone = default_timezone
        self.concurrency = concurrency
        self.clock = clock
        self.metrics = metrics
        self.budget = budget
        self.paid = paid  # bulk sends ask for Telegram's paid broadcasts
        self._slots = asyncio.Semaphore(concurrency)
        # Rows taken and not yet recorded: being sent, or sent and waiting for the recorder.
        self._in_flight: set[int] = set()
        self._chats_in_flight: set[int] = set()
        self._sends: set[asyncio.Task[None]] = set()
        self._sent: list[int] = []
        self._sent_waiting = asyncio.Event()
        self._woken = asyncio.Event()
        self._stopping = False
        # Set once the dispatcher has stopped and its last sends have finished: only then may
        # the recorder stop, or a send it could not see coming would go unrecorded.
        self._drained = False
        self._tasks: list[asyncio.Task[None]] = []
        # Progress messages: the text last put in each, and (when, how many handled) then.
        self._shown: dict[int, str] = {}
        self._samples: dict[int, tuple[float, int]] = {}
        self._next_look = 0.0

    def wake(self) -> None:
        """New rows were committed: look now rather than at the next poll."""
        self._woken.set()

    async def start(self) -> None:
        # Also after a stop: a replica that lost the lead and wins it back starts again.
        self._stopping = False
        self._drained = False
        self._sent_waiting.clear()
        await self.bot.initialize()
        self._tasks = [
            asyncio.create_task(self._run(), name="outbox worker"),
            asyncio.create_task(self._record_sent(), name="outbox recorder"),
        ]

    async def stop(self) -> None:
        """Stop taking rows; let the sends in flight finish and be recorded."""
        self._stopping = True
        self._woken.set()
        await asyncio.gather(*self._tasks)
        await self.bot.shutdown()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                dispatched = await self._dispatch_due()
                await self._report_finished()
            except Exception:
                log.exception("outbox worker: a round failed; trying again shortly")
                dispatched = False
            try:
                await self._keep_progress()
            except Exception:  # a progress message is worth less than the sends themselves
                log.exception("outbox worker: progress messages not brought up to date")
            if not dispatched:
                await self._idle()
        await asyncio.gather(*self._sends, return_exceptions=True)
        self._drained = True
        self._sent_waiting.set()  # the recorder records the last sends, then stops

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._woken.wait(), IDLE_POLL)
        self._woken.clear()

    async def _dispatch_due(self) -> bool:
        async with self.database.transaction() as session:
            batch = await outbox.due(
                session=session,
                now=self.clock(),
                limit=self.concurrency * 4,
                skip=set(self._in_flight),
            )
        dispatched = False
        later: list[int] = []
        for message in batch:
            if self._stopping or not self._chat_ready(message.chat_id):
                later.append(message.id)  # its turn comes in a later round
                continue
            await self._slots.acquire()
            if self._stopping:  # asked to stop while waiting for a slot: send nothing new
                self._slots.release()
                later.append(message.id)
                continue
            self._in_flight.add(message.id)
            self._chats_in_flight.add(message.chat_id)
            task = asyncio.create_task(self._deliver(message))
            self._sends.add(task)
            task.add_done_callback(self._sends.discard)
            dispatched = True
        if later:
            await self._unclaim(later)
        return dispatched

    def _chat_ready(self, chat_id: int) -> bool:
        """Whether a send to this chat would go without waiting for its own limit: a row whose
        chat is not ready waits in the table, not in a slot that others could use."""
        return chat_id not in self._chats_in_flight and self.budget.bulk_ready(chat_id)

    async def _unclaim(self, message_ids: list[int]) -> None:
        async with self.database.transaction() as session:
            await outbox.unclaim(session=session, message_ids=message_ids)

    async def _deliver(self, message: DueMessage) -> None:
        try:
            sent = await self._send(message)
        except Exception:
            # The row stays pending and is tried again: better twice than never.
            log.exception("outbox message %s: could not record its delivery", message.id)
            sent = False
        finally:
            self._chats_in_flight.discard(message.chat_id)
        if sent:
            # Its slot stays taken until the recorder has stored it: the rows that a crash can
            # send twice are those holding a slot, never more than `concurrency`.
            self._sent.append(message.id)
            self._sent_waiting.set()
        else:
            self._release(message.id)

    def _release(self, message_id: int) -> None:
        self._in_flight.discard(message_id)
        self._slots.release()
        self._woken.set()

    async def _record_sent(self) -> None:
        """Store confirmed sends, many to a transaction: one commit per send would cap the rate."""
        while True:
            await self._sent_waiting.wait()
            self._sent_waiting.clear()
            confirmed, self._sent = self._sent, []
            if confirmed:
                try:
                    async with self.database.transaction() as session:
                        await outbox.mark_sent(
                            session=session, message_ids=confirmed, now=self.clock()
                        )
                except Exception:
                    log.exception(
                        "outbox: %d sends not recorded; they may go again", len(confirmed)
                    )
                for message_id in confirmed:
                    self._release(message_id)
            if self._drained and not self._sent:
                return

    async def _send(self, message: DueMessage) -> bool:
        """Send one row; True once Telegram confirmed it, else its fate is already recorded."""
        text, buttons = self._render(message)
        try:
            await self.bot.send_message(
                message.chat_id,
                str(text),
                reply_markup=buttons,
                allow_paid_broadcast=self.paid or None,
                rate_limit_args=Lane.BULK,
            )
        except RetryAfter:
            # The budget paused every send; the row stays pending and is taken again after.
            await self._unclaim([message.id])
            return False
        except Forbidden as error:
            async with self.database.transaction() as session:
                await outbox.mark_blocked(
                    session=session, message_id=message.id, reason=error.message, now=self.clock()
                )
            self.metrics.blocked.inc()
            return False
        except ChatMigrated as error:
            async with self.database.transaction() as session:
                await outbox.move_chat(
                    session=session, old_chat_id=message.chat_id, new_chat_id=error.new_chat_id
                )
                await outbox.unclaim(session=session, message_ids=[message.id])
            return False
        except BadRequest as error:
            async with self.database.transaction() as session:
                await outbox.mark_failed(
                    session=session, message_id=message.id, reason=error.message
                )
            self.metrics.failed.inc()
            return False
        except TelegramError as error:  # 5xx, timeouts, network
            await self._retry_or_fail(message, error.message)
            return False
        self.metrics.sent.labels(kind=message.kind.value).inc()
        return True

    async def _retry_or_fail(self, message: DueMessage, reason: str) -> None:
        attempts = message.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            async with self.database.transaction() as session:
                await outbox.mark_failed(session=session, message_id=message.id, reason=reason)
            self.metrics.failed.inc()
            return
        async with self.database.transaction() as session:
            await outbox.retry_later(
                session=session,
                message_id=message.id,
                not_before=self.clock() + BACKOFF * 2 ** (attempts - 1),
                reason=reason,
            )

    def _render(self, message: DueMessage) -> tuple[Markup, InlineKeyboardMarkup | None]:
        texts = self.texts[message.language or self.default_language]
        zone_name = message.timezone or self.default_timezone
        # What the service queued for this kind (services/payloads.py), as stored.
        payload: Any = message.payload
        match message.kind:
            case OutboxKind.BROADCAST:
                assert message.broadcast_text is not None
                return render_broadcast(texts, message.broadcast_text), None
            case OutboxKind.ANNOUNCEMENT:
                assert message.appeal_id is not None
                assert message.appeal_title is not None
                return render_announcement(texts, message.appeal_id, message.appeal_title)
            case OutboxKind.REMINDER:
                return render_reminder(
                    texts, cast(ReminderPayload, payload), zone_name, self.clock()
                )
            case OutboxKind.PHASE_START:
                return render_phase_start(texts, cast(PhaseStartPayload, payload)), None
            case OutboxKind.DEADLINE_REPORT:
                return render_deadline_report(texts, cast(CountPayload, payload)), None
            case OutboxKind.APPEAL_CLOSED:
                return render_closing(texts, cast(CountPayload, payload)), None
            case OutboxKind.RECONFIRM:
                return render_reconfirmation(texts, cast(ReconfirmationPayload, payload))

    async def _report_finished(self) -> None:
        """Tell each organiser, once, how their finished broadcast went."""
        async with self.database.transaction() as session:
            finished = await outbox.finished_broadcasts(session=session)
        for broadcast_id in finished:
            async with self.database.transaction() as session:
                report = await broadcasts.delivery_report(
                    session=session, broadcast_id=broadcast_id
                )
                organiser = report.organiser_id
                language = self.default_language
                if organiser is not None:
                    language = await accounts.language_of(
                        session=session, telegram_id=organiser, default=language
                    )
            if organiser is not None:  # else they were forgotten: nobody to tell
                try:
                    await self.bot.send_message(
                        organiser,
                        str(render_report(self.texts[language], report)),
                        rate_limit_args=Lane.BULK,
                    )
                except TelegramError as error:
                    log.warning("report of broadcast %s not sent yet: %s", broadcast_id, error)
                    continue
            async with self.database.transaction() as session:
                await outbox.mark_reported(
                    session=session, broadcast_id=broadcast_id, now=self.clock()
                )

    async def _keep_progress(self) -> None:
        """Bring each organiser's progress message up to date, every PROGRESS_EVERY seconds;
        the last edit gives the final figures."""
        moment = time.monotonic()
        if moment < self._next_look:
            return
        self._next_look = moment + FINAL_AFTER
        async with self.database.reading() as session:
            tracked = await progress.unfinished(
                session=session, default_language=self.default_language
            )
        for item in tracked:
            try:
                await self._show_progress(item, moment)
            except RetryAfter:
                return  # the budget paused every send: the next round tries again
            except TelegramError as error:
                log.warning("progress message %s not brought up to date: %s", item.id, error)

    async def _show_progress(self, item: Tracked, moment: float) -> None:
        done = item.tally.pending == 0
        last = self._samples.get(item.id)
        if last is not None and moment - last[0] < (FINAL_AFTER if done else PROGRESS_EVERY):
            return
        if not self.budget.bulk_ready(item.chat_id):
            return  # the organiser's chat just had a message: the next look, not a wait here
        texts = self.texts[item.language]
        text = str(render_progress(texts, item.send, item.tally, self._pace(item, moment)))
        if item.message_id is None:
            if self.clock() - item.started_at < UNSENT_AFTER:
                return  # its handler is about to send it
            sent = await self.bot.send_message(item.chat_id, text, rate_limit_args=Lane.BULK)
            async with self.database.transaction() as session:
                await progress.shown(
                    session=session, progress_id=item.id, message_id=sent.message_id
                )
        else:
            # What the handler first showed, unless this worker has edited it since.
            nothing_sent = Tally(pending=item.tally.recipients, sent=0, blocked=0, failed=0)
            first = str(render_progress(texts, item.send, nothing_sent, None))
            if text != self._shown.get(item.id, first):
                await self._edit(item, text)
        self._shown[item.id] = text
        if done:
            async with self.database.transaction() as session:
                await progress.finish(session=session, tracked=item, now=self.clock())
            self._shown.pop(item.id, None)
            self._samples.pop(item.id, None)

    async def _edit(self, item: Tracked, text: str) -> None:
        try:
            await self.bot.edit_message_text(
                text, item.chat_id, item.message_id, rate_limit_args=Lane.BULK
            )
        except BadRequest as error:
            if "message is not modified" in error.message.lower():
                return  # it already says this (shown before a restart)
            # Deleted by the organiser, say: nothing left to keep up to date.
            log.warning("progress message %s can no longer be edited: %s", item.id, error)
            async with self.database.transaction() as session:
                await progress.finish(session=session, tracked=item, now=self.clock())

    def _pace(self, item: Tracked, moment: float) -> Pace | None:
        """The rate since the last look at this send, and the time left at that rate."""
        handled = item.tally.handled
        before = self._samples.get(item.id)
        self._samples[item.id] = (moment, handled)
        if before is None or moment <= before[0] or handled <= before[1]:
            return None
        per_second = (handled - before[1]) / (moment - before[0])
        return Pace(per_second, timedelta(seconds=item.tally.pending / per_second))
