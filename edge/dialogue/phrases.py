"""The phrase book: every fixed sentence the edge speaks, by language, and the one language rule.

Sentences are grouped by who says them (``engine``, ``transfer``, ``timer``, ``dialogue``,
``announce``, ``message``) and looked up with :func:`phrase` (``phrase("pt-BR", "transfer.busy",
department="Vendas")``). A secretary's language picks its book through :func:`language_code` (the
rule shared with the knowledge search: ``en*`` is English, anything else Portuguese); a language
without a book of its own hears :data:`FALLBACK_LANGUAGE`'s.

Only what a caller (or the person hearing an announced transfer) hears lives here; instructions for a
model and log lines do not.
"""

from __future__ import annotations

from shared.keywords import language_code

FALLBACK_LANGUAGE = "pt"
"""The book used for a language without one of its own (the product's default, pt-BR)."""

PHRASES: dict[str, dict[str, dict[str, str]]] = {
    "pt": {
        "engine": {
            "resume": "Pronto, pode repetir, por favor?",
            "apology": "Desculpe, estamos com um problema técnico no momento.",
        },
        "transfer": {
            "transferring": "Um momento, vou transferir sua ligação para {department}.",
            "no_answer": "{department} não atendeu.",
            "busy": "{department} está ocupado no momento.",
            "failed": "Não consegui completar a transferência para {department}.",
            "unavailable": "{department} não está disponível no momento.",
            "declined": "{department} não pode atender agora.",
            "closed": "{department} não está atendendo agora, estamos fora do horário de atendimento.",
            "no_match": "Não encontrei esse setor.",
            "offer_message": "Posso anotar um recado para retornarem a sua ligação?",
            "offer_voicemail": "Posso transferir você para a caixa postal, ou anotar um recado. O que prefere?",
            "offer_operator": "Posso transferir você para a telefonista, ou anotar um recado. O que prefere?",
            "sorry_goodbye": "Por favor, ligue novamente mais tarde.",
            "unavailable_goodbye": "Desculpe, não podemos atender sua ligação agora. Por favor, ligue novamente "
                                   "mais tarde.",
            "operator": "a telefonista",
        },
        "timer": {
            "reprompt": "Você ainda está aí? Em que posso ajudar?",
            "silence_goodbye": "Como não ouvi resposta, vou encerrar a ligação.",
            "turns_goodbye": "Chegamos ao limite deste atendimento. Obrigado pela ligação.",
            "duration_goodbye": "Nosso tempo de atendimento chegou ao fim. Obrigado pela ligação.",
            "goodbye": "Até logo!",
        },
        "dialogue": {
            "greeting": "Olá, obrigado por ligar. Como posso ajudar?",
            "goodbye": "Obrigado pela ligação. Até logo!",
            "not_heard": "Desculpe, não entendi. Pode repetir?",
            "no_answer": "Desculpe, não tenho essa informação. Posso transferir a ligação ou anotar um recado.",
            "transfer": "Um momento, vou transferir para {department}.",
            "transfer_failed": "Desculpe, {department} não está disponível agora. Quer deixar um recado?",
            "ask_name": "Claro, vou anotar o recado. Qual é o seu nome?",
            "ask_message": "Obrigado, {name}. Qual é a mensagem?",
            "ask_number": "Em qual número podemos retornar a ligação? Pode também digitar no teclado e apertar "
                          "cerquilha.",
            "read_back": "Vou confirmar. Nome: {name}. Mensagem: {message}. Número para retorno: {number}. "
                         "Está correto?",
            "message_saved": "Seu recado foi registrado. Retornaremos a ligação. Posso ajudar em algo mais?",
            "message_retry": "Vamos recomeçar. Qual é o seu nome?",
            "anything_else": "Posso ajudar em algo mais?",
            "keypad": "Recebi as teclas {digits}, mas não esperava nenhuma. Como posso ajudar?",
            "voicemail": "caixa postal",
        },
        "announce": {
            "announcement": "Olá, tenho {caller} na linha{about}. Tecle 1 ou diga sim para atender, ou tecle 2 "
                            "para recusar.",
            "about": " sobre {reason}",
            "someone": "uma pessoa",
        },
        "message": {
            "read_back": "Seu recado: {message}.",
            "callback": " Retornaremos no número {number}.",
        },
    },
    "en": {
        "engine": {
            "resume": "All right, could you say that again, please?",
            "apology": "I'm sorry, we are having a technical problem right now.",
        },
        "transfer": {
            "transferring": "One moment, I will transfer your call to {department}.",
            "no_answer": "{department} did not answer.",
            "busy": "{department} is busy right now.",
            "failed": "I could not complete the transfer to {department}.",
            "unavailable": "{department} is not available right now.",
            "declined": "{department} cannot take your call right now.",
            "closed": "{department} is not taking calls right now, we are outside business hours.",
            "no_match": "I could not find that department.",
            "offer_message": "May I take a message so they can call you back?",
            "offer_voicemail": "I can send you to voicemail, or take a message. Which do you prefer?",
            "offer_operator": "I can transfer you to the operator, or take a message. Which do you prefer?",
            "sorry_goodbye": "Please call again later.",
            "unavailable_goodbye": "I'm sorry, we cannot take your call right now. Please call again later.",
            "operator": "the operator",
        },
        "timer": {
            "reprompt": "Are you still there? How can I help you?",
            "silence_goodbye": "As I can't hear you, I'm going to end the call.",
            "turns_goodbye": "We have reached the limit of this call. Thank you for calling.",
            "duration_goodbye": "We have reached the time limit of this call. Thank you for calling.",
            "goodbye": "Goodbye!",
        },
        "dialogue": {
            "greeting": "Hello, thank you for calling. How can I help you?",
            "goodbye": "Thank you for calling. Goodbye!",
            "not_heard": "Sorry, I didn't catch that. Could you say it again?",
            "no_answer": "I'm sorry, I don't have that information. I can transfer you or take a message.",
            "transfer": "One moment, I'll transfer you to {department}.",
            "transfer_failed": "I'm sorry, {department} is not available right now. Would you like to leave a "
                               "message?",
            "ask_name": "Sure, I'll take a message. What is your name?",
            "ask_message": "Thank you, {name}. What is your message?",
            "ask_number": "What number should we call you back on? You can also type it on the keypad, then "
                          "press pound.",
            "read_back": "Let me read it back. Name: {name}. Message: {message}. Callback number: {number}. "
                         "Is that correct?",
            "message_saved": "Your message has been recorded. Someone will call you back. Anything else?",
            "message_retry": "Let's start again. What is your name?",
            "anything_else": "Is there anything else I can help you with?",
            "keypad": "I got the keys {digits}, but I wasn't expecting any. How can I help you?",
            "voicemail": "voicemail",
        },
        "announce": {
            "announcement": "Hello, I have {caller} on the line{about}. Press 1 or say yes to take the call, or "
                            "press 2 to decline.",
            "about": " about {reason}",
            "someone": "a caller",
        },
        "message": {
            "read_back": "Your message for the team: {message}.",
            "callback": " We will call you back at {number}.",
        },
    },
}
"""Language (:func:`language_code`) → section → key → sentence (``str.format`` fields in braces)."""


def phrases(language: str | None, section: str) -> dict[str, str]:
    """One section of the book for a secretary's language (``pt-BR``, ``en-US``…)."""
    book = PHRASES.get(language_code(language), PHRASES[FALLBACK_LANGUAGE])
    return book[section]


def phrase(language: str | None, key: str, **values: str) -> str:
    """The sentence ``section.key`` in a secretary's language, with ``values`` filled in; a sentence that
    starts with a value ("{department} did not answer." for "the operator") starts with a capital."""
    section, _, name = key.partition(".")
    template = phrases(language, section)[name]
    text = template.format(**values)
    return text[:1].upper() + text[1:] if template.startswith("{") else text


__all__ = ["FALLBACK_LANGUAGE", "PHRASES", "language_code", "phrase", "phrases"]
