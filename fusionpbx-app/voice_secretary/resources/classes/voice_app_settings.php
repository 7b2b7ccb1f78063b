<?php
/*
	Voice Secretary — voice_app_settings: the app's default settings (category "voice_secretary" in
	app_config.php), with the same defaults the Python side uses (shared/settings.py).
*/

class voice_app_settings {

	/** @var settings */
	private $settings;

	public function __construct($settings) {
		$this->settings = $settings;
	}

	public function edge_host(): string {
		return (string) $this->settings->get('voice_secretary', 'edge_host', '127.0.0.1');
	}

	public function edge_port(): int {
		return intval($this->settings->get('voice_secretary', 'edge_port', 8022)) ?: 8022;
	}

	/** The socket application's target for the dialplan. */
	public function edge_address(): string {
		return voice_dialplan::edge_address($this->edge_host(), $this->edge_port());
	}

	public function redis_url(): string {
		return (string) $this->settings->get('voice_secretary', 'redis_url', 'redis://127.0.0.1:6379/0');
	}

	public function upload_dir(): string {
		return (string) $this->settings->get('voice_secretary', 'upload_dir', '/var/lib/voice-ai/uploads');
	}

	/** Provider base URLs may name loopback/private hosts (FusionPBX gives a "boolean" setting as a bool). */
	public function provider_allow_private(): bool {
		return filter_var($this->settings->get('voice_secretary', 'provider_allow_private', false), FILTER_VALIDATE_BOOLEAN);
	}

	public function upload_max_bytes(): int {
		return intval($this->settings->get('voice_secretary', 'upload_max_bytes', 20971520)) ?: 20971520;
	}
}
