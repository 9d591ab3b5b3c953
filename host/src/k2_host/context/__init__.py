"""The context layer (CAG): the transcript of a session, and the policy that decides what a model sees.

transcript.py  typed turns (user, assistant with tool calls and reasoning, tool results in full), sessions
policy.py      ContextPolicy: transcript -> messages for one step; FullTranscript (today's behaviour)
"""

from k2_host.context.policy import ContextPolicy, ContextView, FullTranscript, delimit, policy_for
from k2_host.context.transcript import AssistantTurn, SessionInfo, SessionStore, ToolTurn, Transcript, Turn, UserTurn

__all__ = [
    "AssistantTurn",
    "ContextPolicy",
    "ContextView",
    "FullTranscript",
    "SessionInfo",
    "SessionStore",
    "ToolTurn",
    "Transcript",
    "Turn",
    "UserTurn",
    "delimit",
    "policy_for",
]
