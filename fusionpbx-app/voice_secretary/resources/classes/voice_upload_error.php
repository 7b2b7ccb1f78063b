<?php
/*
	Voice Secretary — voice_upload_error: an upload was refused; the message is a language key
	(app_languages.php) that the page shows to the operator.
*/

class voice_upload_error extends RuntimeException {
}
