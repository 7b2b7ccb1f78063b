"""The offline engine's dialogue manager: no generative model, just rules and the knowledge base.

It greets, answers questions with the sentences of the best knowledge passages that share the most
words with the question, recognizes transfer requests from the transfer rules' department names and
keywords (and "talk to …" phrasings), takes a message (name, message, callback number; read back for
confirmation), and says goodbye. Portuguese and English phrasings.

Pure: :meth:`ExtractiveDialogue.respond` takes the caller's words and returns the reply text plus the
tool actions the engine should run (``transfer_call``, ``take_message``, ``end_call``). Knowledge search
is the injected ``search(query) -> passages`` function (the engine routes it through the
``search_knowledge_base`` tool so every engine uses the same tools).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from edge.dialogue.phrases import phrase

Search = Callable[[str], list[str]]


@dataclass(frozen=True)
class TransferTarget:
    """What the dialogue knows of a transfer rule: the department and the words that ask for it."""

    department_name: str
    keywords: tuple[str, ...] = ()


@dataclass
class ToolAction:
    """A tool the engine should run after speaking the reply."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass
class Turn:
    """The dialogue's answer to one caller utterance."""

    reply: str
    actions: list[ToolAction] = field(default_factory=list)


class Stage(StrEnum):
    """Where the conversation is."""

    OPEN = "open"
    MESSAGE_NAME = "message-name"
    MESSAGE_TEXT = "message-text"
    MESSAGE_NUMBER = "message-number"
    MESSAGE_CONFIRM = "message-confirm"
    ENDED = "ended"


# Accent-free, lower-case phrasings, matched on word boundaries.
GOODBYE = ("bye", "goodbye", "good bye", "that is all", "that's all", "nothing else", "tchau", "ate logo",
           "ate mais", "so isso", "e so isso", "mais nada", "nada mais", "obrigado e so")
MESSAGE = ("message", "leave a message", "recado", "mensagem", "deixar recado")
TRANSFER_VERBS = ("talk to", "speak to", "speak with", "talk with", "transfer me to", "transfer to",
                  "put me through to", "connect me to", "falar com", "transferir para", "transfere para",
                  "me transfere", "ligar para", "passar para", "me passa para")
OPERATOR = ("operator", "human", "a person", "someone", "receptionist", "atendente", "operador", "operadora",
            "telefonista", "uma pessoa", "alguem", "recepcao", "recepcionista")
VOICEMAIL = ("voicemail", "voice mail", "voice message", "mailbox", "mail", "caixa postal", "correio de voz",
             "caixa de mensagens")
"""Answers choosing voicemail when a failed transfer's fallback is offered ("…voicemail, or a message?");
"mail" alone too, as pocketsphinx often hears only that of "voice mail"."""
YES = ("yes", "yeah", "yep", "correct", "right", "sure", "ok", "okay", "sim", "isso", "correto", "certo",
       "claro", "pode")
NO = ("no", "nope", "wrong", "not", "nao", "errado")
STOPWORDS = frozenset(
    "a an the is are was were be to of and or in on at for from with by do does did i you we your our my "
    "me it this that what when where how which who can could would will please about there have has "
    "o a os as um uma de do da dos das e ou em no na nos nas por para com que qual quais quando onde como "
    "eu voce voces seu sua meu minha tem ter e sao foi pode poderia gostaria quero saber se".split()
)
NUMBER_WORDS = {
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "um": "1", "uma": "1", "dois": "2", "duas": "2", "tres": "3",
    "quatro": "4", "cinco": "5", "seis": "6", "meia": "6", "sete": "7", "oito": "8", "nove": "9",
}


def fold(text: str) -> str:
    """Lower-case, strip accents, keep letters, digits, apostrophes and single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", plain).split())


def contains(text: str, phrases: Sequence[str]) -> str | None:
    """The first of ``phrases`` found in folded ``text`` on word boundaries."""
    padded = f" {text} "
    for wording in phrases:
        if f" {fold(wording)} " in padded:
            return wording
    return None


def content_words(text: str) -> set[str]:
    """The words of ``text`` that carry meaning (no stopwords, no one-letter words)."""
    return {w for w in fold(text).split() if w not in STOPWORDS and len(w) > 1}


def spoken_digits(text: str) -> str:
    """Digits said as digits or number words ("five five one 2" → "5512")."""
    digits = []
    for word in fold(text).split():
        if word.isdigit():
            digits.append(word)
        elif word in NUMBER_WORDS:
            digits.append(NUMBER_WORDS[word])
    return "".join(digits)


STEM_LENGTH = 5
"""Words are compared by their first letters, a crude stemmer for both languages: "sábado"/"sábados",
"estacionar"/"estacionamento", "custa"/"custam", "park"/"parking" meet."""


def stems(text: str) -> set[str]:
    """The content words of ``text`` cut to :data:`STEM_LENGTH` letters."""
    return {w[:STEM_LENGTH] for w in content_words(text)}


def heading_and_text(passage: str) -> tuple[str, str]:
    """A passage's heading path and its text: ingested Markdown/HTML chunks start with a one-line heading
    path ("Clinic FAQ > Parking") and a blank line; other passages have no heading."""
    head, blank, body = passage.partition("\n\n")
    head = head.strip()
    if blank and body.strip() and "\n" not in head and not head.endswith((".", "!", "?", ":")):
        return head, body
    return "", passage


def best_sentences(query: str, passages: Sequence[str], limit: int = 2, max_chars: int = 320) -> str:
    """The passage sentences sharing the most content words (:func:`stems`) with ``query``, in passage
    order; "" when none shares any: the dialogue then says it does not have the information rather than
    read a passage that does not answer.

    A passage's heading counts for each of its sentences ("where is the vet hospital?" reads the sentence
    under "Vet Hospital > Address"), and an FAQ's question for the sentences that answer it; neither is
    read out itself.
    """
    wanted = stems(query)
    if not wanted:
        return ""
    scored: list[tuple[int, int, int, str]] = []
    order = 0
    for passage in passages:
        heading, text = heading_and_text(passage)
        asked: set[str] = set()
        # Sentences end at . ! ? or a blank line; a single newline is only the document's line wrap.
        for sentence in re.split(r"(?<=[.!?])\s+|\n\s*\n", text):
            sentence = " ".join(sentence.split())
            if sentence.endswith("?"):  # an FAQ's question: context for its answer, not an answer
                asked = wanted & stems(sentence)
            elif sentence:
                own = wanted & stems(sentence)
                scored.append((len(own | asked | (wanted & stems(heading))), len(own), -order, sentence))
                order += 1
    top = [s for s in sorted(scored, reverse=True)[:limit] if s[0] > 0]
    if not top:
        return ""
    # Prefer the single best sentence; add the next if it is nearly as good and fits.
    chosen = [top[0]]
    if len(top) > 1 and (top[1][0] == top[0][0] or top[1][0] >= max(2, top[0][0] - 1)):
        chosen.append(top[1])
    text = " ".join(s[3] for s in sorted(chosen, key=lambda s: -s[2]))
    return text if len(text) <= max_chars else text[:max_chars].rsplit(" ", 1)[0] + "..."


@dataclass
class ExtractiveDialogue:
    """State and rules of one call's conversation (see the module docstring)."""

    search: Search
    targets: Sequence[TransferTarget] = ()
    language: str = "pt-BR"
    greeting_message: str | None = None
    goodbye_message: str | None = None
    caller_id: str | None = None
    stage: Stage = Stage.OPEN
    message: dict[str, str] = field(default_factory=dict)
    pending_department: str | None = None
    offered: str | None = None
    """The fallback offered after a failed transfer (``message``, ``voicemail``, ``operator``), until answered."""
    last_department: str | None = None

    def phrase(self, key: str, **values: str) -> str:
        """A reply in the call's language (the phrase book's ``dialogue`` section)."""
        return phrase(self.language, f"dialogue.{key}", **values)

    def greeting(self) -> str:
        """What the secretary says after answering."""
        return self.greeting_message or self.phrase("greeting")

    def goodbye(self) -> str:
        """What the secretary says before hanging up."""
        return self.goodbye_message or self.phrase("goodbye")

    def respond(self, text: str) -> Turn:
        """The reply to one caller utterance, with tool actions for the engine."""
        said = fold(text)
        if not said:
            return Turn(self.phrase("not_heard"))
        if self.stage is not Stage.OPEN and self.stage is not Stage.ENDED:
            return self._message_step(text, said)
        if self.offered is not None:
            offered, self.offered = self.offered, None
            choice = self._fallback_choice(said, offered)
            if choice is not None:
                return choice
        if contains(said, GOODBYE):
            return self._end("caller said goodbye")
        if contains(said, MESSAGE) and not self._department(said):
            return self._start_message()
        department = self._department(said)
        if department is not None:
            return self._transfer(department, text.strip())
        answer = best_sentences(text, self.search(text))
        if answer:
            return Turn(answer)
        return Turn(self.phrase("no_answer"))

    def keypad(self, digits: str) -> Turn:
        """Keys the caller typed (``#`` ends them): the callback number when it is being asked for."""
        if self.stage is Stage.MESSAGE_NUMBER:
            return self._message_step(digits, fold(digits))
        typed = " ".join(c for c in digits if c.isdigit() or c in "*#")
        return Turn(self.phrase("keypad", digits=typed or "#"))

    def transfer_failed(self, department: str | None = None, offered: str | None = None) -> Turn:
        """The transfer did not connect: offer to take a message instead (or remember the fallback the
        edge already offered, ``voicemail`` or ``operator``, so that the caller's answer is understood)."""
        self.pending_department = department or self.last_department or ""
        self.offered = offered if offered in ("voicemail", "operator") else "message"
        return Turn(self.phrase("transfer_failed", department=self.pending_department or "?"))

    def _fallback_choice(self, said: str, offered: str) -> Turn | None:
        """The caller's answer to "…voicemail/the operator, or a message?" (None: not an answer to it)."""
        if contains(said, VOICEMAIL):
            return self._transfer(self.phrase("voicemail"), "caller chose voicemail")
        if contains(said, OPERATOR):
            return self._transfer("operator", "caller chose the operator")
        if contains(said, MESSAGE) or (contains(said, YES) and not contains(said, NO)):
            return self._start_message()  # "yes" to "leave a message?" (or to "which do you prefer?")
        if contains(said, NO) and not self._department(said):
            return Turn(self.phrase("anything_else"))
        return None

    def _transfer(self, department: str, reason: str) -> Turn:
        self.last_department = department
        return Turn(self.phrase("transfer", department=department),
                    [ToolAction("transfer_call", {"destination": department, "reason": reason})])

    def _department(self, said: str) -> str | None:
        for target in self.targets:
            if contains(said, (target.department_name, *target.keywords)):
                return target.department_name
        verb = contains(said, TRANSFER_VERBS)
        if verb is not None:
            if contains(said, OPERATOR):
                return "operator"
            rest = said.split(fold(verb), 1)[1]
            words = [w for w in rest.split() if w not in STOPWORDS and w not in ("department", "setor")]
            if words:
                return " ".join(words[:3])
        return None

    def _start_message(self) -> Turn:
        self.stage, self.message = Stage.MESSAGE_NAME, {}
        return Turn(self.phrase("ask_name"))

    def _end(self, reason: str) -> Turn:
        self.stage = Stage.ENDED
        return Turn(self.goodbye(), [ToolAction("end_call", {"reason": reason})])

    def _message_step(self, text: str, said: str) -> Turn:
        if self.stage is Stage.MESSAGE_NAME:
            name = re.sub(r"(?i)^(my name is|this is|i am|i'm|meu nome e|meu nome é|aqui e|aqui é|sou o|sou a|sou)\s+",
                          "", text.strip()).strip(" .")
            self.message["caller_name"] = name
            self.stage = Stage.MESSAGE_TEXT
            return Turn(self.phrase("ask_message", name=name))
        if self.stage is Stage.MESSAGE_TEXT:
            self.message["message"] = text.strip()
            self.stage = Stage.MESSAGE_NUMBER
            return Turn(self.phrase("ask_number"))
        if self.stage is Stage.MESSAGE_NUMBER:
            number = spoken_digits(text) or (self.caller_id or "")
            self.message["callback_number"] = number
            self.stage = Stage.MESSAGE_CONFIRM
            return Turn(self.phrase("read_back", name=self.message["caller_name"],
                                    message=self.message["message"], number=" ".join(number)))
        # MESSAGE_CONFIRM
        if contains(said, NO) and not contains(said, YES):
            return self._start_message_again()
        self.stage = Stage.OPEN
        return Turn(self.phrase("message_saved"), [ToolAction("take_message", dict(self.message))])

    def _start_message_again(self) -> Turn:
        self.stage, self.message = Stage.MESSAGE_NAME, {}
        return Turn(self.phrase("message_retry"))


def targets_from_rules(rules: Sequence[Any]) -> list[TransferTarget]:
    """Transfer targets from rule rows or dicts with ``department_name`` and ``keywords``."""
    targets = []
    for rule in rules:
        get = rule.get if isinstance(rule, dict) else lambda k, d=None, r=rule: getattr(r, k, d)
        name = get("department_name")
        if name:
            targets.append(TransferTarget(str(name), tuple(str(k) for k in (get("keywords") or ()))))
    return targets


def passages_from_result(result: Any) -> list[str]:
    """Passage texts from a ``search_knowledge_base`` tool result, whatever its exact shape."""
    if isinstance(result, dict):
        for key in ("passages", "results", "chunks", "matches"):
            if key in result:
                return passages_from_result(result[key])
        return []
    texts = []
    for item in result or ():
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, dict):
            text = item.get("content") or item.get("text") or item.get("chunk_text")
            if text:
                texts.append(str(text))
    return texts
