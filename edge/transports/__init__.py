"""Call audio transports (unicast UDP, mod_audio_stream WebSocket) behind one interface."""
