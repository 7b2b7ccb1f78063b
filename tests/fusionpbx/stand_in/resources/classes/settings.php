<?php
/*
	Stand-in for FusionPBX's settings class: get(category, subcategory, default) over the default
	settings given in standin_config.json (FusionPBX reads v_default_settings/v_domain_settings).
*/

class settings {

	/** @var array */
	private $values;

	public function __construct(array $values = []) {
		$this->values = $values;
	}

	public function get($category = null, $subcategory = null, $default = null) {
		return $this->values[$category][$subcategory] ?? $default;
	}
}
