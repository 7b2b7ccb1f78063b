<?php
/*
	Voice Secretary — the app's strings (en-us, pt-br); FusionPBX's text class picks the user's language.
*/

$text['title-voice_secretaries']['en-us'] = "Voice Secretaries";
$text['title-voice_secretaries']['pt-br'] = "Secretárias Virtuais";

$text['title-voice_secretary']['en-us'] = "Voice Secretary";
$text['title-voice_secretary']['pt-br'] = "Secretária Virtual";

$text['title-voice_ai_providers']['en-us'] = "AI Providers";
$text['title-voice_ai_providers']['pt-br'] = "Provedores de IA";

$text['title-voice_ai_provider']['en-us'] = "AI Provider";
$text['title-voice_ai_provider']['pt-br'] = "Provedor de IA";

$text['title-voice_documents']['en-us'] = "Knowledge Base";
$text['title-voice_documents']['pt-br'] = "Base de Conhecimento";

$text['title-voice_document']['en-us'] = "Document";
$text['title-voice_document']['pt-br'] = "Documento";

$text['title-voice_transfer_rules']['en-us'] = "Transfer Rules";
$text['title-voice_transfer_rules']['pt-br'] = "Regras de Transferência";

$text['title-voice_transfer_rule']['en-us'] = "Transfer Rule";
$text['title-voice_transfer_rule']['pt-br'] = "Regra de Transferência";

$text['title-voice_conversations']['en-us'] = "Conversations";
$text['title-voice_conversations']['pt-br'] = "Conversas";

$text['title-voice_conversation']['en-us'] = "Conversation";
$text['title-voice_conversation']['pt-br'] = "Conversa";

$text['title-voice_domain_settings']['en-us'] = "Call Handling Settings";
$text['title-voice_domain_settings']['pt-br'] = "Configurações de Atendimento";

$text['description-voice_secretaries']['en-us'] = "AI virtual secretaries that answer calls, consult the knowledge base, transfer and take messages.";
$text['description-voice_secretaries']['pt-br'] = "Secretárias virtuais com IA que atendem chamadas, consultam a base de conhecimento, transferem e anotam recados.";

$text['description-voice_ai_providers']['en-us'] = "Speech-to-text, text-to-speech, language model and embedding services. API keys are stored but never shown.";
$text['description-voice_ai_providers']['pt-br'] = "Serviços de fala para texto, texto para fala, modelo de linguagem e embeddings. As chaves de API são guardadas, mas nunca exibidas.";

$text['description-voice_documents']['en-us'] = "Documents the secretaries answer from. Uploaded files are processed in the background.";
$text['description-voice_documents']['pt-br'] = "Documentos usados pelas secretárias para responder. Os arquivos enviados são processados em segundo plano.";

$text['description-voice_transfer_rules']['en-us'] = "Where a secretary may transfer a caller, when, and what to do if the department is closed or does not answer.";
$text['description-voice_transfer_rules']['pt-br'] = "Para onde a secretária pode transferir, em que horário, e o que fazer se o setor estiver fechado ou não atender.";

$text['button-reprocess']['en-us'] = "Re-process";
$text['button-reprocess']['pt-br'] = "Reprocessar";

$text['button-upload']['en-us'] = "Upload";
$text['button-upload']['pt-br'] = "Enviar";

$text['button-show_all']['en-us'] = "Show All";
$text['button-show_all']['pt-br'] = "Mostrar Todos";

$text['button-reset']['en-us'] = "Reset";
$text['button-reset']['pt-br'] = "Limpar";

$text['confirm-delete']['en-us'] = "Do you really want to delete the selected items?";
$text['confirm-delete']['pt-br'] = "Deseja realmente excluir os itens selecionados?";

$text['label-name']['en-us'] = "Name";
$text['label-name']['pt-br'] = "Nome";

$text['label-description']['en-us'] = "Description";
$text['label-description']['pt-br'] = "Descrição";

$text['label-domain']['en-us'] = "Domain";
$text['label-domain']['pt-br'] = "Domínio";

$text['label-extension']['en-us'] = "Extension";
$text['label-extension']['pt-br'] = "Ramal";

$text['label-language']['en-us'] = "Language";
$text['label-language']['pt-br'] = "Idioma";

$text['label-voice_name']['en-us'] = "Voice";
$text['label-voice_name']['pt-br'] = "Voz";

$text['label-system_prompt']['en-us'] = "Instructions (prompt)";
$text['label-system_prompt']['pt-br'] = "Instruções (prompt)";

$text['label-greeting_message']['en-us'] = "Greeting";
$text['label-greeting_message']['pt-br'] = "Saudação";

$text['label-goodbye_message']['en-us'] = "Goodbye";
$text['label-goodbye_message']['pt-br'] = "Despedida";

$text['label-llm_provider_uuid']['en-us'] = "Language model";
$text['label-llm_provider_uuid']['pt-br'] = "Modelo de linguagem";

$text['label-stt_provider_uuid']['en-us'] = "Speech to text";
$text['label-stt_provider_uuid']['pt-br'] = "Fala para texto";

$text['label-tts_provider_uuid']['en-us'] = "Text to speech";
$text['label-tts_provider_uuid']['pt-br'] = "Texto para fala";

$text['label-embeddings_provider_uuid']['en-us'] = "Embeddings";
$text['label-embeddings_provider_uuid']['pt-br'] = "Embeddings";

$text['label-rag_enabled']['en-us'] = "Use knowledge base";
$text['label-rag_enabled']['pt-br'] = "Usar base de conhecimento";

$text['label-rag_similarity_threshold']['en-us'] = "Similarity threshold";
$text['label-rag_similarity_threshold']['pt-br'] = "Limiar de similaridade";

$text['label-rag_top_k']['en-us'] = "Passages per search";
$text['label-rag_top_k']['pt-br'] = "Trechos por busca";

$text['label-max_conversation_turns']['en-us'] = "Maximum turns";
$text['label-max_conversation_turns']['pt-br'] = "Máximo de turnos";

$text['label-silence_timeout_seconds']['en-us'] = "Silence reprompt (s)";
$text['label-silence_timeout_seconds']['pt-br'] = "Silêncio até repetir (s)";

$text['label-silence_hangup_seconds']['en-us'] = "Silence hangup (s)";
$text['label-silence_hangup_seconds']['pt-br'] = "Silêncio até desligar (s)";

$text['label-max_call_seconds']['en-us'] = "Maximum call length (s)";
$text['label-max_call_seconds']['pt-br'] = "Duração máxima da chamada (s)";

$text['label-webhook_enabled']['en-us'] = "Webhook enabled";
$text['label-webhook_enabled']['pt-br'] = "Webhook habilitado";

$text['label-webhook_url']['en-us'] = "Webhook URL (OmniPlay)";
$text['label-webhook_url']['pt-br'] = "URL do webhook (OmniPlay)";

$text['label-webhook_secret']['en-us'] = "Webhook secret";
$text['label-webhook_secret']['pt-br'] = "Segredo do webhook";

$text['label-secret_set']['en-us'] = "(stored, hidden)";
$text['label-secret_set']['pt-br'] = "(guardado, oculto)";

$text['label-clear']['en-us'] = "Remove";
$text['label-clear']['pt-br'] = "Remover";

$text['label-provider_type']['en-us'] = "Type";
$text['label-provider_type']['pt-br'] = "Tipo";

$text['label-provider_name']['en-us'] = "Provider";
$text['label-provider_name']['pt-br'] = "Provedor";

$text['label-display_name']['en-us'] = "Display name";
$text['label-display_name']['pt-br'] = "Nome de exibição";

$text['label-api_key']['en-us'] = "API key";
$text['label-api_key']['pt-br'] = "Chave de API";

$text['label-model']['en-us'] = "Model";
$text['label-model']['pt-br'] = "Modelo";

$text['label-base_url']['en-us'] = "Base URL";
$text['label-base_url']['pt-br'] = "URL base";

$text['label-voice']['en-us'] = "Voice";
$text['label-voice']['pt-br'] = "Voz";

$text['label-extra']['en-us'] = "Other settings (JSON)";
$text['label-extra']['pt-br'] = "Outras configurações (JSON)";

$text['label-is_default']['en-us'] = "Domain default";
$text['label-is_default']['pt-br'] = "Padrão do domínio";

$text['label-file']['en-us'] = "File";
$text['label-file']['pt-br'] = "Arquivo";

$text['label-file_name']['en-us'] = "File name";
$text['label-file_name']['pt-br'] = "Nome do arquivo";

$text['label-file_size']['en-us'] = "Size";
$text['label-file_size']['pt-br'] = "Tamanho";

$text['label-mime_type']['en-us'] = "Type";
$text['label-mime_type']['pt-br'] = "Tipo";

$text['label-status']['en-us'] = "Status";
$text['label-status']['pt-br'] = "Situação";

$text['label-error_message']['en-us'] = "Reason";
$text['label-error_message']['pt-br'] = "Motivo";

$text['label-chunk_count']['en-us'] = "Passages";
$text['label-chunk_count']['pt-br'] = "Trechos";

$text['label-embedding_model']['en-us'] = "Embedding model";
$text['label-embedding_model']['pt-br'] = "Modelo de embeddings";

$text['label-processed_at']['en-us'] = "Processed";
$text['label-processed_at']['pt-br'] = "Processado em";

$text['label-created_at']['en-us'] = "Uploaded";
$text['label-created_at']['pt-br'] = "Enviado em";

$text['label-voice_secretary']['en-us'] = "Secretary";
$text['label-voice_secretary']['pt-br'] = "Secretária";

$text['label-all_secretaries']['en-us'] = "All secretaries";
$text['label-all_secretaries']['pt-br'] = "Todas as secretárias";

$text['label-all_outcomes']['en-us'] = "All outcomes";
$text['label-all_outcomes']['pt-br'] = "Todos os resultados";

$text['label-provider_domain_default']['en-us'] = "(domain default)";
$text['label-provider_domain_default']['pt-br'] = "(padrão do domínio)";

$text['label-department_name']['en-us'] = "Department";
$text['label-department_name']['pt-br'] = "Setor";

$text['label-keywords']['en-us'] = "Keywords";
$text['label-keywords']['pt-br'] = "Palavras-chave";

$text['label-transfer_extension']['en-us'] = "Destination";
$text['label-transfer_extension']['pt-br'] = "Destino";

$text['label-transfer_context']['en-us'] = "Context";
$text['label-transfer_context']['pt-br'] = "Contexto";

$text['label-transfer_message']['en-us'] = "Message before transfer";
$text['label-transfer_message']['pt-br'] = "Mensagem antes de transferir";

$text['label-priority']['en-us'] = "Priority";
$text['label-priority']['pt-br'] = "Prioridade";

$text['label-business_hours']['en-us'] = "Business hours";
$text['label-business_hours']['pt-br'] = "Horário de atendimento";

$text['label-timezone']['en-us'] = "Time zone";
$text['label-timezone']['pt-br'] = "Fuso horário";

$text['label-day_mon']['en-us'] = "Monday";
$text['label-day_mon']['pt-br'] = "Segunda";

$text['label-day_tue']['en-us'] = "Tuesday";
$text['label-day_tue']['pt-br'] = "Terça";

$text['label-day_wed']['en-us'] = "Wednesday";
$text['label-day_wed']['pt-br'] = "Quarta";

$text['label-day_thu']['en-us'] = "Thursday";
$text['label-day_thu']['pt-br'] = "Quinta";

$text['label-day_fri']['en-us'] = "Friday";
$text['label-day_fri']['pt-br'] = "Sexta";

$text['label-day_sat']['en-us'] = "Saturday";
$text['label-day_sat']['pt-br'] = "Sábado";

$text['label-day_sun']['en-us'] = "Sunday";
$text['label-day_sun']['pt-br'] = "Domingo";

$text['label-fallback_action']['en-us'] = "When closed or unanswered";
$text['label-fallback_action']['pt-br'] = "Se fechado ou sem resposta";

$text['label-fallback_destination']['en-us'] = "Fallback destination";
$text['label-fallback_destination']['pt-br'] = "Destino alternativo";
$text['label-ring_seconds']['en-us'] = "Ring time (seconds)";
$text['label-ring_seconds']['pt-br'] = "Tempo de chamada (segundos)";
$text['description-ring_seconds']['en-us'] = "How long this destination rings before the caller is offered the fallback, 1 to 300 (empty: the domain's, now %d s).";
$text['description-ring_seconds']['pt-br'] = "Quanto tempo este destino chama antes de oferecer a alternativa, de 1 a 300 (vazio: o do domínio, agora %d s).";
$text['label-announce']['en-us'] = "Announce the caller";
$text['label-announce']['pt-br'] = "Anunciar a chamada";
$text['description-announce']['en-us'] = "Whoever answers first hears who is calling and why, and takes the call (1 or \"yes\") or declines it (2, \"no\", 15 s of silence); a declined caller is offered the fallback.";
$text['description-announce']['pt-br'] = "Quem atender ouve primeiro quem liga e por quê, e aceita a chamada (1 ou \"sim\") ou recusa (2, \"não\", 15 s sem resposta); quem foi recusado ouve a alternativa.";

$text['label-operator_destination']['en-us'] = "Operator destination";
$text['label-operator_destination']['pt-br'] = "Destino da telefonista";

$text['label-caller']['en-us'] = "Caller";
$text['label-caller']['pt-br'] = "Chamador";

$text['label-date_from']['en-us'] = "From";
$text['label-date_from']['pt-br'] = "De";

$text['label-date_to']['en-us'] = "To";
$text['label-date_to']['pt-br'] = "Até";

$text['label-started_at']['en-us'] = "Started";
$text['label-started_at']['pt-br'] = "Início";

$text['label-duration']['en-us'] = "Duration";
$text['label-duration']['pt-br'] = "Duração";

$text['label-outcome']['en-us'] = "Outcome";
$text['label-outcome']['pt-br'] = "Resultado";

$text['label-in_progress']['en-us'] = "In progress";
$text['label-in_progress']['pt-br'] = "Em andamento";

$text['label-webhook_status']['en-us'] = "Webhook";
$text['label-webhook_status']['pt-br'] = "Webhook";

$text['label-summary']['en-us'] = "Summary";
$text['label-summary']['pt-br'] = "Resumo";

$text['label-destination_number']['en-us'] = "Dialled number";
$text['label-destination_number']['pt-br'] = "Número discado";

$text['label-engine']['en-us'] = "Engine";
$text['label-engine']['pt-br'] = "Motor";

$text['label-taken_message']['en-us'] = "Message taken";
$text['label-taken_message']['pt-br'] = "Recado anotado";

$text['label-taken_caller_name']['en-us'] = "Name";
$text['label-taken_caller_name']['pt-br'] = "Nome";

$text['label-taken_callback_number']['en-us'] = "Call back";
$text['label-taken_callback_number']['pt-br'] = "Retornar para";

$text['label-taken_message_text']['en-us'] = "Message";
$text['label-taken_message_text']['pt-br'] = "Recado";

$text['label-transcript']['en-us'] = "Transcript";
$text['label-transcript']['pt-br'] = "Transcrição";

$text['label-role']['en-us'] = "Speaker";
$text['label-role']['pt-br'] = "Quem";

$text['label-content']['en-us'] = "Said";
$text['label-content']['pt-br'] = "Fala";

$text['label-latency']['en-us'] = "Latency";
$text['label-latency']['pt-br'] = "Latência";

$text['label-interrupted']['en-us'] = "interrupted";
$text['label-interrupted']['pt-br'] = "interrompida";

$text['option-llm']['en-us'] = "Language model";
$text['option-llm']['pt-br'] = "Modelo de linguagem";

$text['option-stt']['en-us'] = "Speech to text";
$text['option-stt']['pt-br'] = "Fala para texto";

$text['option-tts']['en-us'] = "Text to speech";
$text['option-tts']['pt-br'] = "Texto para fala";

$text['option-embeddings']['en-us'] = "Embeddings";
$text['option-embeddings']['pt-br'] = "Embeddings";

$text['option-pending']['en-us'] = "Pending";
$text['option-pending']['pt-br'] = "Pendente";

$text['option-processing']['en-us'] = "Processing";
$text['option-processing']['pt-br'] = "Processando";

$text['option-ready']['en-us'] = "Ready";
$text['option-ready']['pt-br'] = "Pronto";

$text['option-failed']['en-us'] = "Failed";
$text['option-failed']['pt-br'] = "Falhou";

$text['option-fallback_message']['en-us'] = "Take a message";
$text['option-fallback_message']['pt-br'] = "Anotar recado";

$text['option-fallback_voicemail']['en-us'] = "Voicemail";
$text['option-fallback_voicemail']['pt-br'] = "Correio de voz";

$text['option-fallback_operator']['en-us'] = "Operator";
$text['option-fallback_operator']['pt-br'] = "Telefonista";

$text['option-fallback_hangup']['en-us'] = "Say goodbye and hang up";
$text['option-fallback_hangup']['pt-br'] = "Despedir-se e desligar";

$text['option-outcome_resolved']['en-us'] = "Resolved";
$text['option-outcome_resolved']['pt-br'] = "Resolvido";

$text['option-outcome_transferred']['en-us'] = "Transferred";
$text['option-outcome_transferred']['pt-br'] = "Transferido";

$text['option-outcome_message']['en-us'] = "Message taken";
$text['option-outcome_message']['pt-br'] = "Recado";

$text['option-outcome_abandoned']['en-us'] = "Abandoned";
$text['option-outcome_abandoned']['pt-br'] = "Abandonado";

$text['option-outcome_error']['en-us'] = "Error";
$text['option-outcome_error']['pt-br'] = "Erro";

$text['option-webhook_none']['en-us'] = "Off";
$text['option-webhook_none']['pt-br'] = "Desligado";

$text['option-webhook_pending']['en-us'] = "Pending";
$text['option-webhook_pending']['pt-br'] = "Pendente";

$text['option-webhook_delivered']['en-us'] = "Delivered";
$text['option-webhook_delivered']['pt-br'] = "Entregue";

$text['option-webhook_failed']['en-us'] = "Failed";
$text['option-webhook_failed']['pt-br'] = "Falhou";

$text['option-webhook_refused']['en-us'] = "Refused (URL not allowed)";
$text['option-webhook_refused']['pt-br'] = "Recusado (URL não permitida)";

$text['option-role_user']['en-us'] = "Caller";
$text['option-role_user']['pt-br'] = "Chamador";

$text['option-role_assistant']['en-us'] = "Secretary";
$text['option-role_assistant']['pt-br'] = "Secretária";

$text['option-role_tool']['en-us'] = "Tool";
$text['option-role_tool']['pt-br'] = "Ferramenta";

$text['option-role_system']['en-us'] = "System";
$text['option-role_system']['pt-br'] = "Sistema";

$text['message-not_found']['en-us'] = "Not found.";
$text['message-not_found']['pt-br'] = "Não encontrado.";

$text['message-extension_in_use']['en-us'] = "already used by another secretary";
$text['message-extension_in_use']['pt-br'] = "já usado por outra secretária";

$text['message-provider_exists']['en-us'] = "this provider already exists for this type";
$text['message-provider_exists']['pt-br'] = "este provedor já existe para este tipo";

$text['message-reprocess']['en-us'] = "Queued for processing.";
$text['message-reprocess']['pt-br'] = "Enviado para processamento.";

$text['message-upload_queued']['en-us'] = "Upload complete; the document is being processed.";
$text['message-upload_queued']['pt-br'] = "Envio concluído; o documento está sendo processado.";

$text['message-upload_pending']['en-us'] = "Upload complete; the document will be processed shortly.";
$text['message-upload_pending']['pt-br'] = "Envio concluído; o documento será processado em breve.";

$text['message-upload_empty']['en-us'] = "The file is empty.";
$text['message-upload_empty']['pt-br'] = "O arquivo está vazio.";

$text['message-upload_too_large']['en-us'] = "The file is larger than the upload limit.";
$text['message-upload_too_large']['pt-br'] = "O arquivo é maior que o limite de envio.";

$text['message-upload_extension']['en-us'] = "This file type is not accepted (PDF, DOCX, TXT or MD).";
$text['message-upload_extension']['pt-br'] = "Tipo de arquivo não aceito (PDF, DOCX, TXT ou MD).";

$text['message-upload_content']['en-us'] = "The file's content does not match its type.";
$text['message-upload_content']['pt-br'] = "O conteúdo do arquivo não corresponde ao seu tipo.";

$text['message-upload_failed']['en-us'] = "The upload failed.";
$text['message-upload_failed']['pt-br'] = "O envio falhou.";

$text['message-upload_directory']['en-us'] = "The upload directory is not usable (it must exist outside the web root).";
$text['message-upload_directory']['pt-br'] = "O diretório de envio não pode ser usado (deve ficar fora da raiz web).";

$text['message-too_long']['en-us'] = "%s: at most %d characters.";
$text['message-too_long']['pt-br'] = "%s: no máximo %d caracteres.";

$text['message-save_failed']['en-us'] = "Not saved: the database refused the change, and nothing was changed. Try again; if it fails again, the server's log says why.";
$text['message-save_failed']['pt-br'] = "Não salvo: o banco de dados recusou a alteração, e nada foi alterado. Tente de novo; se falhar outra vez, o log do servidor diz por quê.";

$text['message-upload_post_too_large']['en-us'] = "The upload is larger than this server accepts (%s) and was discarded. Upload a smaller file, or ask the administrator to raise PHP's post_max_size and upload_max_filesize.";
$text['message-upload_post_too_large']['pt-br'] = "O envio é maior do que este servidor aceita (%s) e foi descartado. Envie um arquivo menor, ou peça ao administrador para aumentar post_max_size e upload_max_filesize do PHP.";

$text['message-base_url_private']['en-us'] = "Base URL: %s is a loopback, private or link-local address, and the edge and workers would send the API key there. Use the vendor's public address, or ask the administrator to allow private addresses (Default Settings, voice_secretary, provider_allow_private).";
$text['message-base_url_private']['pt-br'] = "URL base: %s é um endereço local, privado ou link-local, e o edge e os workers enviariam a chave de API para lá. Use o endereço público do fornecedor, ou peça ao administrador para permitir endereços privados (Configurações Padrão, voice_secretary, provider_allow_private).";

$text['message-base_url_unresolved']['en-us'] = "Base URL: %s cannot be resolved from this server.";
$text['message-base_url_unresolved']['pt-br'] = "URL base: %s não pode ser resolvido a partir deste servidor.";

$text['description-name']['en-us'] = "Name of the secretary.";
$text['description-name']['pt-br'] = "Nome da secretária.";

$text['description-extension']['en-us'] = "Number dialled to reach the secretary; saving writes its dialplan entry. Leave empty to reach it only from inbound routes.";
$text['description-extension']['pt-br'] = "Número discado para falar com a secretária; ao salvar, a entrada do dialplan é criada. Deixe vazio para usá-la só por rotas de entrada.";

$text['description-language']['en-us'] = "Language the secretary speaks.";
$text['description-language']['pt-br'] = "Idioma em que a secretária fala.";

$text['description-voice_name']['en-us'] = "Voice of the realtime model, from OpenAI's list (empty: the provider's default). Other speech providers take their voice from the provider's settings.";
$text['description-voice_name']['pt-br'] = "Voz do modelo em tempo real, da lista da OpenAI (vazio: a padrão do provedor). Os outros provedores de voz usam a voz das suas configurações.";

$text['description-system_prompt']['en-us'] = "How the secretary should behave: company, tone, what it may answer.";
$text['description-system_prompt']['pt-br'] = "Como a secretária deve agir: empresa, tom, o que pode responder.";

$text['description-greeting_message']['en-us'] = "Said when the call is answered.";
$text['description-greeting_message']['pt-br'] = "Dita ao atender a chamada.";

$text['description-goodbye_message']['en-us'] = "Said before hanging up.";
$text['description-goodbye_message']['pt-br'] = "Dita antes de desligar.";

$text['description-provider_default']['en-us'] = "Empty: the domain's default provider of this type, else the offline engine.";
$text['description-provider_default']['pt-br'] = "Vazio: o provedor padrão do domínio para este tipo, senão o motor offline.";

$text['description-rag_enabled']['en-us'] = "Answer from the documents of the knowledge base.";
$text['description-rag_enabled']['pt-br'] = "Responder a partir dos documentos da base de conhecimento.";

$text['description-rag_similarity_threshold']['en-us'] = "0 to 1: passages less similar than this are ignored.";
$text['description-rag_similarity_threshold']['pt-br'] = "0 a 1: trechos menos similares que isso são ignorados.";

$text['description-rag_top_k']['en-us'] = "How many passages a search returns (1-20).";
$text['description-rag_top_k']['pt-br'] = "Quantos trechos uma busca retorna (1-20).";

$text['description-silence_timeout_seconds']['en-us'] = "Ask again after this many seconds of silence.";
$text['description-silence_timeout_seconds']['pt-br'] = "Perguntar de novo após estes segundos de silêncio.";

$text['description-silence_hangup_seconds']['en-us'] = "Say goodbye after this many more seconds of silence.";
$text['description-silence_hangup_seconds']['pt-br'] = "Despedir-se após mais estes segundos de silêncio.";

$text['description-webhook_url']['en-us'] = "Where a summary of each call is sent (OmniPlay).";
$text['description-webhook_url']['pt-br'] = "Para onde o resumo de cada chamada é enviado (OmniPlay).";

$text['description-webhook_secret']['en-us'] = "Key that signs the webhook (HMAC-SHA256). Never shown; leave empty to keep it.";
$text['description-webhook_secret']['pt-br'] = "Chave que assina o webhook (HMAC-SHA256). Nunca exibida; deixe vazio para mantê-la.";

$text['description-provider_name']['en-us'] = "offline needs no key or network.";
$text['description-provider_name']['pt-br'] = "offline não precisa de chave nem de rede.";

$text['description-api_key']['en-us'] = "Never shown after saving; leave empty to keep the stored key.";
$text['description-api_key']['pt-br'] = "Nunca exibida após salvar; deixe vazio para manter a chave guardada.";

$text['description-model']['en-us'] = "Model name, e.g. gpt-4o-realtime-preview, whisper-1, eleven_multilingual_v2.";
$text['description-model']['pt-br'] = "Nome do modelo, ex.: gpt-4o-realtime-preview, whisper-1, eleven_multilingual_v2.";

$text['description-base_url']['en-us'] = "Vendor API address (empty: the vendor's default). Loopback and private addresses are refused unless the administrator allows them.";
$text['description-base_url']['pt-br'] = "Endereço da API do fornecedor (vazio: o padrão do fornecedor). Endereços locais e privados são recusados, a menos que o administrador os permita.";

$text['description-voice']['en-us'] = "Voice name or id for text to speech.";
$text['description-voice']['pt-br'] = "Nome ou id da voz para texto para fala.";

$text['description-extra']['en-us'] = "Vendor-specific settings as a JSON object.";
$text['description-extra']['pt-br'] = "Configurações específicas do fornecedor, como objeto JSON.";

$text['description-is_default']['en-us'] = "Used by secretaries that choose no provider of this type.";
$text['description-is_default']['pt-br'] = "Usado pelas secretárias que não escolhem provedor deste tipo.";

$text['description-file']['en-us'] = "Accepted: %s, up to %s MB.";
$text['description-file']['pt-br'] = "Aceitos: %s, até %s MB.";

$text['description-voice_secretary_document']['en-us'] = "Which secretary uses this document (all: every secretary of the domain).";
$text['description-voice_secretary_document']['pt-br'] = "Qual secretária usa este documento (todas: todas as secretárias do domínio).";

$text['description-department_name']['en-us'] = "Department the caller asks for, e.g. Sales.";
$text['description-department_name']['pt-br'] = "Setor que o chamador pede, ex.: Vendas.";

$text['description-keywords']['en-us'] = "Comma-separated words that send a caller here.";
$text['description-keywords']['pt-br'] = "Palavras separadas por vírgula que levam o chamador a este setor.";

$text['description-transfer_extension']['en-us'] = "Extension or number to transfer to.";
$text['description-transfer_extension']['pt-br'] = "Ramal ou número para onde transferir.";

$text['description-transfer_context']['en-us'] = "Dialplan context: empty or the domain's name (a rule cannot transfer into another domain).";
$text['description-transfer_context']['pt-br'] = "Contexto do dialplan: vazio ou o nome do domínio (uma regra não transfere para outro domínio).";

$text['description-transfer_message']['en-us'] = "Said to the caller before the transfer.";
$text['description-transfer_message']['pt-br'] = "Dita ao chamador antes da transferência.";

$text['description-priority']['en-us'] = "Lower wins when several rules match.";
$text['description-priority']['pt-br'] = "Menor vence quando várias regras combinam.";

$text['description-business_hours']['en-us'] = "Per day, e.g. 08:00-12:00, 13:00-18:00; 22:00-06:00 runs past midnight. Empty day: closed. All empty: always open. Empty timezone: UTC.";
$text['description-business_hours']['pt-br'] = "Por dia, ex.: 08:00-12:00, 13:00-18:00; 22:00-06:00 passa da meia-noite. Dia vazio: fechado. Todos vazios: sempre aberto. Fuso vazio: UTC.";

$text['description-fallback_action']['en-us'] = "What the secretary does outside business hours or when nobody answers.";
$text['description-fallback_action']['pt-br'] = "O que a secretária faz fora do horário ou se ninguém atender.";

$text['description-fallback_destination']['en-us'] = "Destination for the operator fallback (empty: the domain's operator).";
$text['description-fallback_destination']['pt-br'] = "Destino para a opção telefonista (vazio: a telefonista do domínio).";

$text['description-operator_destination']['en-us'] = "Where DTMF 0 and the operator fallback send a caller.";
$text['description-operator_destination']['pt-br'] = "Para onde o DTMF 0 e a opção telefonista enviam o chamador.";

$text['description-domain_fallback_destination']['en-us'] = "Where calls go when the secretary cannot run (empty: say goodbye and hang up).";
$text['description-domain_fallback_destination']['pt-br'] = "Para onde vão as chamadas quando a secretária não pode atender (vazio: despedir-se e desligar).";

$text['description-domain_transfer_context']['en-us'] = "Dialplan context for transfers when a rule names none: empty or the domain's name.";
$text['description-domain_transfer_context']['pt-br'] = "Contexto do dialplan para transferências quando a regra não define um: vazio ou o nome do domínio.";

$text['label-dnd']['en-us'] = "do not disturb";
$text['label-dnd']['pt-br'] = "não perturbe";
$text['label-destinations_extensions']['en-us'] = "Extensions";
$text['label-destinations_extensions']['pt-br'] = "Ramais";
$text['label-destinations_ring_groups']['en-us'] = "Ring groups";
$text['label-destinations_ring_groups']['pt-br'] = "Grupos de toque";
$text['label-destinations_call_center_queues']['en-us'] = "Call center queues";
$text['label-destinations_call_center_queues']['pt-br'] = "Filas de call center";
$text['label-destinations_voicemails']['en-us'] = "Voicemail boxes";
$text['label-destinations_voicemails']['pt-br'] = "Caixas postais";
$text['label-destinations_ivr_menus']['en-us'] = "IVR menus";
$text['label-destinations_ivr_menus']['pt-br'] = "Menus de URA";
$text['label-destinations_other']['en-us'] = "Other (as stored)";
$text['label-destinations_other']['pt-br'] = "Outro (como gravado)";

$text['section-general']['en-us'] = "General";
$text['section-general']['pt-br'] = "Geral";
$text['section-voice']['en-us'] = "Voice and messages";
$text['section-voice']['pt-br'] = "Voz e mensagens";
$text['section-providers']['en-us'] = "AI providers";
$text['section-providers']['pt-br'] = "Provedores de IA";
$text['section-knowledge']['en-us'] = "Knowledge base";
$text['section-knowledge']['pt-br'] = "Base de conhecimento";
$text['section-call_limits']['en-us'] = "Call limits";
$text['section-call_limits']['pt-br'] = "Limites da chamada";
$text['section-webhook']['en-us'] = "Webhook";
$text['section-webhook']['pt-br'] = "Webhook";
$text['label-eagerness']['en-us'] = "Interruption sensitivity";
$text['label-eagerness']['pt-br'] = "Sensibilidade a interrupções";
$text['description-eagerness']['en-us'] = "Realtime voice models (choosing one turns on semantic VAD): how soon the secretary answers when the caller pauses. Low waits longest (up to 8 s); high answers soonest.";
$text['description-eagerness']['pt-br'] = "Modelos de voz em tempo real (escolher um liga o VAD semântico): quão cedo a secretária responde quando quem liga faz uma pausa. Baixa espera mais (até 8 s); alta responde mais cedo.";
$text['option-eagerness_auto']['en-us'] = "Automatic";
$text['option-eagerness_auto']['pt-br'] = "Automática";
$text['option-eagerness_low']['en-us'] = "Low (waits longer)";
$text['option-eagerness_low']['pt-br'] = "Baixa (espera mais)";
$text['option-eagerness_medium']['en-us'] = "Medium";
$text['option-eagerness_medium']['pt-br'] = "Média";
$text['option-eagerness_high']['en-us'] = "High (answers sooner)";
$text['option-eagerness_high']['pt-br'] = "Alta (responde antes)";

$text['section-transfers']['en-us'] = "Transfers";
$text['section-transfers']['pt-br'] = "Transferências";
$text['section-transfer_ringing']['en-us'] = "While a transfer rings";
$text['section-transfer_ringing']['pt-br'] = "Enquanto a transferência chama";
$text['label-transfer_ring_seconds']['en-us'] = "Ring time (seconds)";
$text['label-transfer_ring_seconds']['pt-br'] = "Tempo de chamada (segundos)";
$text['description-transfer_ring_seconds']['en-us'] = "How long a destination rings before the caller is offered the rule's fallback (empty: 25).";
$text['description-transfer_ring_seconds']['pt-br'] = "Quanto tempo o destino chama antes de oferecer a alternativa da regra (vazio: 25).";
$text['label-ringback_tone']['en-us'] = "Ringback tone";
$text['label-ringback_tone']['pt-br'] = "Tom de chamada";
$text['description-ringback_tone']['en-us'] = "The ringing tone the caller hears, by country.";
$text['description-ringback_tone']['pt-br'] = "O tom de chamada que quem liga ouve, por país.";
$text['option-ringback_language']['en-us'] = "By the secretary's language";
$text['option-ringback_language']['pt-br'] = "Pelo idioma da secretária";
$text['option-ringback_br']['en-us'] = "Brazil (425 Hz)";
$text['option-ringback_br']['pt-br'] = "Brasil (425 Hz)";
$text['option-ringback_us']['en-us'] = "United States (440+480 Hz)";
$text['option-ringback_us']['pt-br'] = "Estados Unidos (440+480 Hz)";
$text['label-hold_music_file']['en-us'] = "Hold music";
$text['label-hold_music_file']['pt-br'] = "Música de espera";
$text['description-hold_music_file']['en-us'] = "A 16-bit PCM WAV file on the edge's host, played instead of the ringback tone (empty: the tone).";
$text['description-hold_music_file']['pt-br'] = "Um arquivo WAV PCM de 16 bits no servidor do edge, tocado no lugar do tom (vazio: o tom).";

?>
