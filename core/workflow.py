"""The workflow engine: a case type declares its states and moves once, every door calls ``perform``.

A ``Workflow`` names a model, its states (the model's TextChoices, whose labels are translated) and
its ``Transition``s: an action name, the states it starts from, the state it leads to, who may take
it (a rule ``(user, obj) -> bool``) and the inputs it needs. ``perform`` is the one way a case moves:

1. it locks the row (SELECT … FOR UPDATE) inside one transaction;
2. the user must see the case at all (``Workflow.scope``)           -> PermissionDenied (403);
3. the version the user saw must be the present one, when given      -> Conflict (409);
4. the action must exist and start from the present state            -> InvalidTransition or, in a
   final state, Conflict (409);
5. the user must be allowed by the transition's rule                 -> PermissionDenied (403);
6. required inputs must not be blank; ``prepare`` may refuse more    -> InvalidInput (400, by field);
7. it sets the fields ``prepare`` returned, moves the state, bumps the version, runs the workflow's
   ``before_save`` hooks, saves, writes the timeline event (``write_event``), then runs the
   transition's and the workflow's ``after`` hooks, and returns the locked, updated object.

Any error leaves nothing behind (the transaction rolls back). ``allowed_actions`` answers "which
buttons may this user press now" from the same rules. Declaring one, in ``<app>/workflows.py``::

    MY_CASE = Workflow(
        name="mycase", model=MyCase, states=MyCase.Status,
        transitions=[Transition("close", (S.OPEN,), S.CLOSED, allowed=is_city_official,
                                label=_("Close"), required={"reason": _("Say why.")})],
        write_event=lambda user, case, move: MyCaseEvent.objects.create(case=case, ...),
    )
    MY_CASE.perform(user, case, "close", expected_version=seen, reason="done")
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from core.exceptions import Conflict, InvalidInput, InvalidTransition, PermissionDenied
from core.history import acting_as

Rule = Callable[[Any, models.Model], bool]


@dataclass(frozen=True)
class Move:
    """What a hook and the event writer are told: who moved the case, how, and with what inputs."""

    action: str
    from_state: str
    to_state: str
    inputs: Mapping[str, Any]


Hook = Callable[[Any, models.Model, Move], None]


@dataclass(frozen=True)
class Transition:
    """One move: ``action`` from any of ``sources`` to ``target``, for users ``allowed`` lets in.

    ``required`` maps an input name to the message shown when it is blank. ``prepare(user, obj,
    inputs)`` runs on the locked row before the move: it may raise a domain error and returns the
    fields to set on the object. ``after`` hooks run after the save and the event, in the same
    transaction. A ``by_system`` move (a deadline, a Celery task) is never offered as a button.
    ``when(obj)``, if given, is a condition on the case beyond its state (say, a deadline passed):
    while it fails the move is not possible (as from another state) and is not offered.
    """

    action: str
    sources: Sequence[str]
    target: str
    allowed: Rule
    label: Any = ""
    required: Mapping[str, Any] = field(default_factory=dict)
    prepare: Callable[[Any, models.Model, Mapping[str, Any]], Mapping[str, Any]] | None = None
    after: Sequence[Hook] = ()
    by_system: bool = False
    when: Callable[[models.Model], bool] | None = None


def _always(user, obj):
    return True


@dataclass
class Workflow:
    """A case type's states and moves. ``scope(user, obj)`` says whether the user may see the case
    at all (the system, ``user=None``, always may); the messages take ``%(status)s`` (the present
    state's label) and ``%(action)s`` (the action's label). ``lock_of`` names the tables the lock
    takes (``("self",)``: the case's row only, not the rows ``select_related`` joins)."""

    name: str
    model: type[models.Model]
    states: type[models.TextChoices]
    transitions: Sequence[Transition]
    write_event: Hook | None = None
    before_save: Sequence[Hook] = ()
    after: Sequence[Hook] = ()
    scope: Rule = _always
    final_states: Sequence[str] = ()
    state_field: str = "status"
    version_field: str = "version"
    select_related: Sequence[str] = ()
    lock_of: Sequence[str] = ()
    stale_message: Any = _(
        "Someone else changed this record first (it is now: %(status)s). Reload it and try again."
    )
    not_possible_message: Any = _("“%(action)s” is not possible while the record is “%(status)s”.")
    final_message: Any = _("This record is already closed: %(status)s.")

    def __post_init__(self):
        self._moves = {}
        for t in self.transitions:
            for source in t.sources:
                if (source, t.action) in self._moves:
                    raise ValueError(f"{self.name}: {t.action!r} from {source!r} declared twice")
                self._moves[(source, t.action)] = t
        self.actions = {t.action: t for t in self.transitions}

    # --- reading --------------------------------------------------------------------------------

    def state_label(self, obj):
        state = getattr(obj, self.state_field)
        return dict(self.states.choices).get(state, state)

    def label(self, action):
        t = self.actions.get(action)
        return (t.label or action) if t else action

    def transition(self, obj, action):
        """The transition ``action`` takes from ``obj``'s present state (None if it takes none)."""
        t = self._moves.get((getattr(obj, self.state_field), action))
        if t is not None and t.when is not None and not t.when(obj):
            return None
        return t

    def allowed_actions(self, user, obj):
        """The actions ``user`` may take on ``obj`` now, in declaration order (for buttons and the
        API). The caller holds an object the user may see (a scoped selector found it), so the
        scope, which costs a query, is left to ``perform``."""
        state = getattr(obj, self.state_field)
        return [
            t.action
            for t in self.transitions
            if state in t.sources
            and not t.by_system
            and (t.when is None or t.when(obj))
            and t.allowed(user, obj)
        ]

    # --- moving ---------------------------------------------------------------------------------

    def lock(self, obj, expected_version=None):
        """``obj``'s row, locked until the transaction ends (call inside one); stale (Conflict)
        when ``expected_version`` is given and is not the row's (a step that is not a move:
        correcting a case's operator, assigning, a follow-up)."""
        queryset = self.model._default_manager.select_for_update(of=tuple(self.lock_of))
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        locked = queryset.get(pk=obj.pk)
        self.check_version(locked, expected_version)
        return locked

    def check_version(self, locked, expected_version):
        """Refuse (Conflict, the stale message) a caller who read another version."""
        if expected_version is not None and int(expected_version) != getattr(
            locked, self.version_field
        ):
            raise Conflict(self.stale_message % {"status": self.state_label(locked)})

    @transaction.atomic
    def perform(self, user, obj, action, *, expected_version=None, **inputs):
        """Move ``obj`` by ``action`` for ``user`` (None: the system) and return it, locked and
        saved; see the module's docstring for the checks, in their order, and their errors."""
        locked = self.lock(obj)
        if user is not None and not self.scope(user, locked):
            raise PermissionDenied()
        self.check_version(locked, expected_version)
        t = self.transition(locked, action)
        if t is None:
            values = {"status": self.state_label(locked), "action": self.label(action)}
            if getattr(locked, self.state_field) in self.final_states:
                raise Conflict(self.final_message % values)
            raise InvalidTransition(self.not_possible_message % values)
        if not t.allowed(user, locked):
            raise PermissionDenied()
        missing = {
            name: [message]
            for name, message in t.required.items()
            if not str(inputs.get(name) or "").strip()
        }
        if missing:
            raise InvalidInput(missing)
        changes = t.prepare(user, locked, inputs) if t.prepare else {}
        move = Move(action, getattr(locked, self.state_field), t.target, inputs)
        for key, value in changes.items():
            setattr(locked, key, value)
        setattr(locked, self.state_field, t.target)
        setattr(locked, self.version_field, getattr(locked, self.version_field) + 1)
        for hook in self.before_save:
            hook(user, locked, move)
        with acting_as(user, action=f"{self.name}.{action}"):
            locked.save()
            if self.write_event:
                self.write_event(user, locked, move)
        for hook in (*t.after, *self.after):
            hook(user, locked, move)
        return locked
