"""FreeSWITCH Event Socket: the pure protocol (``protocol``) and its gevent wiring (``session``, ``server``)."""
