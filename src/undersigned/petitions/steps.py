"""What a petition's thresholds mean, and where it stands: the steps and its state.

Two steps, as a petitions office runs them (the UK Parliament's: a response
at 10,000, a debate considered at 100,000): at RESPONSE_THRESHOLD verified
signatures the addressee is asked to respond, at DEBATE_THRESHOLD the
petition is considered for a debate. A petition may set its own thresholds,
or none (0). The worker records each step once when it is first reached
(updates.services.ask_addressees); a step stays reached after withdrawals.

The state follows from what was published: debated, debate scheduled,
responded, or awaiting a response once the response step is reached.
Everything here is read by age with the page's other parts, and the counts
come from the page's Standing: no request counts signatures.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from undersigned.petitions.models import Outcome, Petition, Response, Step, StepReached
from undersigned.tlog import entries

AWAITING_RESPONSE = "awaiting_response"
RESPONDED = "responded"
DEBATE_SCHEDULED = "debate_scheduled"
DEBATED = "debated"
STATES: dict[str, Promise] = {
    AWAITING_RESPONSE: pgettext_lazy("petition state", "Awaiting a response"),
    RESPONDED: pgettext_lazy("petition state", "Responded"),
    DEBATE_SCHEDULED: pgettext_lazy("petition state", "Debate scheduled"),
    DEBATED: pgettext_lazy("petition state", "Debated"),
}
STEP_WORDS: dict[str, Promise] = {
    Step.RESPONSE: _("the addressee is asked to respond"),
    Step.DEBATE: _("it is considered for a debate"),
}


@dataclass(frozen=True)
class Answers:
    """What was recorded and published about a petition's steps (three small reads)."""

    reached: dict[str, StepReached]
    response: Response | None
    outcomes: list[Outcome]

    def outcome(self, kind: str) -> Outcome | None:
        return next((o for o in self.outcomes if o.kind == kind), None)


def read_answers(petition: Petition) -> Answers:
    return Answers(
        reached={r.step: r for r in StepReached.objects.filter(petition=petition)},
        response=Response.objects.filter(petition=petition).select_related("log_entry").first(),
        outcomes=list(Outcome.objects.filter(petition=petition).select_related("log_entry")),
    )


@dataclass(frozen=True)
class Logged:
    """Where an answer is in the public log, and the count its entry binds it to."""

    index: int
    count: int


def logged(answer: Response | Outcome) -> Logged | None:
    """None until the worker sequences the entry (within seconds)."""
    entry = answer.log_entry
    if entry is None or entry.index is None or not entry.data:
        return None
    decoded = entries.decode(bytes(entry.data))
    return Logged(index=entry.index, count=decoded.count or 0)


@dataclass(frozen=True)
class StepView:
    step: str
    threshold: int
    reached: bool
    reached_at: datetime | None  # when the worker saw it reached (None: not yet recorded)
    percent: int
    to_go: int

    @property
    def meaning(self) -> Promise:
        return STEP_WORDS[self.step]


@dataclass(frozen=True)
class Progress:
    steps: list[StepView]
    next: StepView | None  # the first step not reached yet
    state: str  # a key of STATES, or "" while it only gathers signatures

    @property
    def state_label(self) -> Promise | str:
        return STATES.get(self.state, "")


def where(petition: Petition, verified: int, answers: Answers) -> Progress:
    steps = []
    for step in Step.values:
        threshold = petition.step_threshold(step)
        if not threshold:
            continue
        recorded = answers.reached.get(step)
        steps.append(
            StepView(
                step=step,
                threshold=threshold,
                reached=recorded is not None or verified >= threshold,
                reached_at=recorded.reached_at if recorded is not None else None,
                percent=min(100, verified * 100 // threshold),
                to_go=max(0, threshold - verified),
            )
        )
    state = ""
    if answers.outcome(Outcome.Kind.DEBATED):
        state = DEBATED
    elif answers.outcome(Outcome.Kind.DEBATE_SCHEDULED):
        state = DEBATE_SCHEDULED
    elif answers.response is not None:
        state = RESPONDED
    elif any(s.step == Step.RESPONSE and s.reached for s in steps):
        state = AWAITING_RESPONSE
    return Progress(
        steps=steps, next=next((s for s in steps if not s.reached), None), state=state
    )


# For listings (petitions.listing.STATES): the petitions in each state, as a Q.
def awaiting_response_q() -> Q:
    return Q(steps_reached__step=Step.RESPONSE) & Q(response__isnull=True)


def responded_q() -> Q:
    return Q(response__isnull=False)


def debated_q() -> Q:
    return Q(outcomes__kind=Outcome.Kind.DEBATED)
