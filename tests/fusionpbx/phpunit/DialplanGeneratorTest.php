<?php
/*
	The stand-in's dialplan class turns details into the XML FusionPBX 5.5's does. The expected texts
	below were worked out by hand from FusionPBX's generator (app/dialplans/resources/classes/dialplan.php,
	branch 5.5): time conditions gathered into one <condition>, a break attribute after them (two spaces),
	anti-actions, inline, a condition without actions closed with a leading space and no line break at
	a group change, "$$" turned into "$", disabled details left out, and in the public context the
	export/set lines before a group's first action.
*/

class DialplanGeneratorTest extends StandinTestCase {

	private static function detail(string $tag, string $type, string $data, int $group, int $order, string $break = '', string $inline = '', string $enabled = 'true'): array {
		return ['dialplan_detail_uuid' => uuid(), 'dialplan_detail_tag' => $tag, 'dialplan_detail_type' => $type, 'dialplan_detail_data' => $data,
			'dialplan_detail_break' => $break, 'dialplan_detail_inline' => $inline, 'dialplan_detail_group' => (string) $group,
			'dialplan_detail_order' => (string) $order, 'dialplan_detail_enabled' => $enabled];
	}

	private static function generate(array $dialplan): string {
		$generator = new dialplan();
		$generator->source = 'details';
		$generator->destination = 'array';
		$generator->uuid = $dialplan['dialplan_uuid'];
		$generator->prepare_details(['dialplans' => [$dialplan]]);
		return $generator->xml()[$dialplan['dialplan_uuid']];
	}

	public function test_groups_time_conditions_breaks_and_anti_actions(): void {
		$uuid = uuid();
		$xml = self::generate(['dialplan_uuid' => $uuid, 'domain_uuid' => uuid(), 'dialplan_context' => 'example.test', 'dialplan_name' => 'tc', 'dialplan_continue' => 'true',
			'dialplan_details' => [
				self::detail('action', 'transfer', '1 XML ctx', 2, 20),
				self::detail('condition', 'caller_id_number', '^2$', 2, 10),
				self::detail('condition', 'wday', '2-6', 0, 10),
				self::detail('condition', 'time-of-day', '08:00-18:00', 0, 20, 'never'),
				self::detail('action', 'set', 'x=1', 0, 30, '', 'true'),
				self::detail('action', 'set', 'never=shown', 0, 35, '', '', 'false'),
				self::detail('anti-action', 'playback', '$${hold_music}', 0, 40),
				self::detail('condition', 'destination_number', '^1$', 1, 10, 'on-true'),
			]]);
		$this->assertSame("<extension name=\"tc\" continue=\"true\" uuid=\"".$uuid."\">\n"
			."\t<condition wday=\"2-6\" time-of-day=\"08:00-18:00\"  break=\"never\">\n"
			."\t\t<action application=\"set\" data=\"x=1\" inline=\"true\"/>\n"
			."\t\t<anti-action application=\"playback\" data=\"\${hold_music}\"/>\n"
			."\t</condition>\n"
			." \t<condition field=\"destination_number\" expression=\"^1$\" break=\"on-true\"/>"
			."\t<condition field=\"caller_id_number\" expression=\"^2$\">\n"
			."\t\t<action application=\"transfer\" data=\"1 XML ctx\"/>\n"
			."\t</condition>\n"
			."</extension>\n", $xml);
	}

	public function test_the_public_context_sets_the_domain_before_the_first_action(): void {
		$domain = $this->make_domain();
		$uuid = uuid();
		$xml = self::generate(['dialplan_uuid' => $uuid, 'domain_uuid' => $domain[0], 'dialplan_context' => 'public', 'dialplan_name' => '5511', 'dialplan_continue' => 'false',
			'dialplan_details' => [self::detail('condition', 'destination_number', '^(5511)$', 0, 10), self::detail('action', 'transfer', '8000 XML '.$domain[1], 0, 20)]]);
		$this->assertSame("<extension name=\"5511\" continue=\"false\" uuid=\"".$uuid."\">\n"
			."\t<condition field=\"destination_number\" expression=\"^(5511)$\">\n"
			."\t\t<action application=\"export\" data=\"call_direction=inbound\" inline=\"true\"/>\n"
			."\t\t<action application=\"set\" data=\"domain_uuid=".$domain[0]."\" inline=\"true\"/>\n"
			."\t\t<action application=\"set\" data=\"domain_name=".$domain[1]."\" inline=\"true\"/>\n"
			."\t\t<action application=\"transfer\" data=\"8000 XML ".$domain[1]."\"/>\n"
			."\t</condition>\n"
			."</extension>\n", $xml);
	}

	public function test_details_are_not_escaped(): void {
		$uuid = uuid();
		$xml = self::generate(['dialplan_uuid' => $uuid, 'domain_uuid' => uuid(), 'dialplan_context' => 'x', 'dialplan_name' => 'a"b', 'dialplan_continue' => 'false',
			'dialplan_details' => [self::detail('condition', 'destination_number', '^1$', 0, 10), self::detail('action', 'set', 'v=<&>', 0, 20)]]);
		$this->assertStringContainsString('name="a"b"', $xml);
		$this->assertStringContainsString('data="v=<&>"', $xml);
	}
}
