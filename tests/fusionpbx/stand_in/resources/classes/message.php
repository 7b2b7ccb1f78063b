<?php
/*
	Stand-in for FusionPBX's message class: add() queues a message in the session, and the header
	shows and clears the queue.
*/

class message {

	public static function add($message, $mood = 'positive', $delay = null) {
		$_SESSION['message_queue'][] = [(string) $message, (string) $mood];
	}

	/** The queued messages, removed from the session (the stand-in header calls this). */
	public static function take() {
		$messages = $_SESSION['message_queue'] ?? [];
		unset($_SESSION['message_queue']);
		return $messages;
	}
}
