<?php
/*
	Voice Secretary — voice_secretary_options: the fixed choices the secretary and provider forms offer,
	the same lists the edge accepts (edge/services/voices.py REALTIME_VOICES, edge/engines/realtime.py
	EAGERNESS), so that a form cannot store a value the edge would replace with its default.
*/

class voice_secretary_options {

	/** OpenAI Realtime voices. */
	const realtime_voices = ['alloy', 'ash', 'ballad', 'coral', 'echo', 'sage', 'shimmer', 'verse', 'marin', 'cedar'];

	/** semantic_vad eagerness: how soon the model takes the turn when the caller pauses (interruption sensitivity). */
	const eagerness = ['auto', 'low', 'medium', 'high'];
}
