"""The offline dialogue manager: text in, reply and tool actions out."""

from __future__ import annotations

from edge.dialogue.extractive import ExtractiveDialogue, Stage, TransferTarget, best_sentences, spoken_digits

PASSAGES = ["Acme Dental is open Monday to Friday from 9 am to 6 pm. On Saturday we open from 9 am to 1 pm. "
            "Our clinic is located at 12 Main Street, next to the bank."]


def dialogue(language: str = "en-US", **kw) -> ExtractiveDialogue:
    return ExtractiveDialogue(search=lambda q: PASSAGES, language=language, caller_id="5551234",
                              targets=[TransferTarget("Sales", ("buy", "pricing")),
                                       TransferTarget("Financeiro", ("boleto", "pagamento"))], **kw)


def test_question_is_answered_from_the_best_passage_sentence():
    turn = dialogue().respond("Where is your clinic located?")
    assert turn.reply == "Our clinic is located at 12 Main Street, next to the bank."
    assert turn.actions == []


def test_question_without_an_answer_offers_transfer_or_message():
    d = ExtractiveDialogue(search=lambda q: [], language="en-US")
    assert "take a message" in d.respond("Do you sell bicycles?").reply


def test_sales_department_request_transfers():
    turn = dialogue().respond("I would like to talk to the sales department please")
    assert [(a.name, a.arguments["destination"]) for a in turn.actions] == [("transfer_call", "Sales")]


def test_portuguese_keyword_transfers_to_its_department():
    turn = dialogue("pt-BR").respond("Quero falar sobre o meu boleto")
    assert turn.actions[0].arguments["destination"] == "Financeiro"
    assert turn.reply.startswith("Um momento")


def test_unknown_department_is_passed_to_the_transfer_tool():
    turn = dialogue().respond("Can you put me through to accounting")
    assert turn.actions[0].arguments["destination"] == "accounting"


def test_message_taking_reads_back_and_stores_on_confirmation():
    d = dialogue()
    assert "name" in d.respond("I want to leave a message").reply
    assert "John Smith" in d.respond("My name is John Smith").reply
    assert "call you back" in d.respond("Please call me about my appointment").reply
    read_back = d.respond("five five five nine eight seven six").reply
    assert "John Smith" in read_back and "5 5 5 9 8 7 6" in read_back and "appointment" in read_back
    turn = d.respond("yes that is correct")
    assert [a.name for a in turn.actions] == ["take_message"]
    assert turn.actions[0].arguments == {"caller_name": "John Smith",
                                         "message": "Please call me about my appointment",
                                         "callback_number": "5559876"}
    assert d.stage is Stage.OPEN


def test_message_rejected_at_read_back_starts_over():
    d = dialogue("pt-BR")
    d.respond("Quero deixar um recado")
    d.respond("Meu nome é Maria")
    d.respond("Ligar amanhã")
    d.respond("não tenho")  # no digits: the caller ID is used
    assert d.message["callback_number"] == "5551234"
    turn = d.respond("não, está errado")
    assert turn.actions == [] and d.stage is Stage.MESSAGE_NAME


def test_goodbye_ends_the_call_in_both_languages():
    assert dialogue().respond("No, that's all, goodbye").actions[0].name == "end_call"
    turn = dialogue("pt-BR", goodbye_message="Tchau, até logo!").respond("Obrigado, tchau")
    assert turn.actions[0].name == "end_call" and turn.reply == "Tchau, até logo!"


def test_failed_transfer_offers_a_message_and_yes_starts_it():
    d = dialogue()
    d.respond("transfer me to sales")
    assert "leave a message" in d.transfer_failed().reply
    assert "name" in d.respond("yes please").reply
    assert d.stage is Stage.MESSAGE_NAME


def test_spoken_digits():
    assert spoken_digits("meu número é nove nove um 2 3") == "99123"


def test_answers_join_a_sentence_the_document_wrapped_across_lines():
    passage = ("Clinic FAQ\n\nOpening hours: we are open Monday to Friday from eight to six, and on\n"
               "Saturday from nine to one. We are closed on Sunday.")
    answer = best_sentences("what are your opening hours", [passage])
    assert answer == ("Opening hours: we are open Monday to Friday from eight to six, and on "
                      "Saturday from nine to one.")


def _after_failed_transfer(language: str, offered: str) -> ExtractiveDialogue:
    d = dialogue(language)
    d.respond("transfer me to sales" if language.startswith("en") else "quero falar com o financeiro")
    d.transfer_failed(offered=offered)
    return d


def test_the_fallback_offered_after_a_failed_transfer_is_understood_in_english():
    turn = _after_failed_transfer("en-US", "voicemail").respond("Voicemail, please.")
    assert [(a.name, a.arguments["destination"]) for a in turn.actions] == [("transfer_call", "voicemail")]
    turn = _after_failed_transfer("en-US", "operator").respond("The operator")
    assert [(a.name, a.arguments["destination"]) for a in turn.actions] == [("transfer_call", "operator")]
    d = _after_failed_transfer("en-US", "voicemail")
    turn = d.respond("A message")
    assert turn.actions == [] and d.stage is Stage.MESSAGE_NAME and "name" in turn.reply


def test_the_fallback_offered_after_a_failed_transfer_is_understood_in_portuguese():
    turn = _after_failed_transfer("pt-BR", "voicemail").respond("Pode ser a caixa postal")
    assert [(a.name, a.arguments["destination"]) for a in turn.actions] == [("transfer_call", "caixa postal")]
    for answer in ("A telefonista, por favor", "Quero a atendente"):
        turn = _after_failed_transfer("pt-BR", "operator").respond(answer)
        assert [(a.name, a.arguments["destination"]) for a in turn.actions] == [("transfer_call", "operator")]
    d = _after_failed_transfer("pt-BR", "operator")
    turn = d.respond("Prefiro deixar um recado")
    assert turn.actions == [] and d.stage is Stage.MESSAGE_NAME and "nome" in turn.reply


def test_declining_the_fallback_is_not_a_question_for_the_knowledge_base():
    searched = []
    d = ExtractiveDialogue(search=lambda q: searched.append(q) or PASSAGES, language="en-US")
    d.transfer_failed("Sales", offered="voicemail")
    turn = d.respond("No, thanks")
    assert turn.reply == "Is there anything else I can help you with?" and searched == []


def test_the_callback_number_can_be_typed_on_the_keypad():
    d = dialogue()
    d.respond("I want to leave a message")
    d.respond("My name is John Smith")
    assert "keypad" in d.respond("Please call me about my appointment").reply
    read_back = d.keypad("5559876").reply
    assert "5 5 5 9 8 7 6" in read_back
    turn = d.respond("yes")
    assert turn.actions[0].arguments["callback_number"] == "5559876"


def test_keys_typed_when_no_number_is_asked_for_are_acknowledged_not_searched():
    searched = []
    d = ExtractiveDialogue(search=lambda q: searched.append(q) or PASSAGES, language="pt-BR")
    turn = d.keypad("42")
    assert turn.reply.startswith("Recebi as teclas 4 2") and turn.actions == [] and searched == []
