<?php
/*
	The settings an operator expects, grouped into sections: the secretary form's sections, the realtime
	voice chosen from the list the edge accepts, and the realtime provider's interruption sensitivity
	(semantic VAD eagerness) stored in the provider's config where the edge reads it.
*/

class SecretarySettingsTest extends StandinTestCase {

	const form = ['language' => 'pt-BR', 'rag_enabled' => 'true', 'rag_similarity_threshold' => '0.5', 'rag_top_k' => '3', 'max_conversation_turns' => '10',
		'silence_timeout_seconds' => '8', 'silence_hangup_seconds' => '8', 'max_call_seconds' => '900', 'enabled' => 'true', 'webhook_enabled' => 'false'];

	public function test_the_form_has_sections_and_the_voice_comes_from_the_realtime_list(): void {
		$domain = $this->make_domain();
		$this->login($domain, 'admin');
		[, $html] = $this->get('/app/voice_secretary/voice_secretary_edit.php');
		foreach (['General', 'Voice and messages', 'AI providers', 'Knowledge base', 'Call limits', 'Webhook'] as $section) {
			$this->assertStringContainsString("<div class='subheading'><b>".$section."</b></div>", $html);
		}
		foreach (['alloy', 'ash', 'ballad', 'coral', 'echo', 'sage', 'shimmer', 'verse', 'marin', 'cedar'] as $voice) {
			$this->assertStringContainsString("<option value='".$voice."'>".$voice."</option>", $html);
		}
		$this->assertStringContainsString("<span class='switch'><select class='formfld' name='enabled'", $html, 'true/false as the theme\'s toggle switch');

		[, $html] = $this->submit('/app/voice_secretary/voice_secretary_edit.php', ['name' => 'Ana', 'voice_name' => 'nova'] + self::form);
		$this->assertStringContainsString("id='form_errors'", $html, 'a voice the realtime model does not have');
		$this->assertNull($this->fetch_row('v_voice_secretaries', 'domain_uuid', $domain[0]));
		$this->submit('/app/voice_secretary/voice_secretary_edit.php', ['name' => 'Ana', 'voice_name' => 'cedar'] + self::form);
		$secretary = $this->fetch_row('v_voice_secretaries', 'domain_uuid', $domain[0]);
		$this->assertSame('cedar', $secretary['voice_name']);

		//a voice stored before the list is kept and shown
		$this->pdo()->prepare("update v_voice_secretaries set voice_name = 'legacy-voice' where voice_secretary_uuid = ?")->execute([$secretary['voice_secretary_uuid']]);
		$edit = '/app/voice_secretary/voice_secretary_edit.php?id='.$secretary['voice_secretary_uuid'];
		[, $html] = $this->get($edit);
		$this->assertStringContainsString("<option value='legacy-voice' selected='selected'>legacy-voice</option>", $html);
		[, $html] = $this->submit('/app/voice_secretary/voice_secretary_edit.php', ['id' => $secretary['voice_secretary_uuid'], 'name' => 'Ana', 'voice_name' => 'legacy-voice'] + self::form, [], $edit);
		$this->assertStringContainsString('Update Completed', $html);
	}

	public function test_the_realtime_providers_interruption_sensitivity(): void {
		$domain = $this->make_domain();
		$this->login($domain, 'admin');
		$fields = ['provider_type' => 'llm', 'provider_name' => 'openai_realtime', 'model' => 'gpt-realtime', 'enabled' => 'true'];
		[, $html] = $this->submit('/app/voice_secretary/voice_ai_provider_edit.php', $fields + ['eagerness' => 'eager']);
		$this->assertStringContainsString("id='form_errors'", $html);
		$this->submit('/app/voice_secretary/voice_ai_provider_edit.php', $fields + ['eagerness' => 'low']);
		$provider = $this->fetch_row('v_voice_ai_providers', 'domain_uuid', $domain[0]);
		$this->assertSame('low', json_decode($provider['config'], true)['eagerness']);
		$this->assertSame('semantic_vad', json_decode($provider['config'], true)['turn_detection'], 'the edge applies eagerness to semantic VAD only');
		[, $html] = $this->get('/app/voice_secretary/voice_ai_provider_edit.php?id='.$provider['provider_uuid']);
		$this->assertStringContainsString("<option value='low' selected='selected'>Low (waits longer)</option>", $html);
		$this->assertStringNotContainsString('eagerness', (string) voice_provider_config::extra_json(json_decode($provider['config'], true)), 'not repeated in the extra JSON');
	}

	public function test_new_business_hours_start_in_the_domains_time_zone(): void {
		$domain = $this->make_domain();
		$this->login($domain, 'admin');
		$this->with_settings(['time_zone' => 'America/Sao_Paulo'], function () {
			[, $html] = $this->get('/app/voice_secretary/voice_transfer_rule_edit.php');
			$this->assertStringContainsString('name=\'timezone\' id=\'timezone\' value="America/Sao_Paulo"', $html);
		}, 'domain');
	}

	public function test_a_taken_message_uses_inline_emphasis_not_the_themes_heading_b(): void {
		$domain = $this->make_domain();
		$this->login($domain, 'admin');
		$conversation = $this->insert_row('v_voice_conversations', ['domain_uuid' => $domain[0], 'call_uuid' => uuid(),
			'taken_message' => json_encode(['caller_name' => 'Maria', 'message' => 'Bolo para sábado'])]);
		[, $html] = $this->get('/app/voice_secretary/voice_conversation.php?id='.$conversation['conversation_uuid']);
		$this->assertStringContainsString('<strong>Name</strong>: Maria', $html);
		$this->assertStringNotContainsString('<b>Name</b>', $html, 'FusionPBX\'s theme sizes b as a heading');
	}
}
