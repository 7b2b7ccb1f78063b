<?php
/*
	Stand-in for FusionPBX's cache class: delete($key) records the key in <docroot>/cache_deleted.log
	(FusionPBX deletes it from memcache or its file cache) so tests can see the dialplan cache cleared.
*/

class cache {

	public function delete($key) {
		file_put_contents($GLOBALS['standin_docroot'].'/cache_deleted.log', $key."\n", FILE_APPEND | LOCK_EX);
		return true;
	}
}
