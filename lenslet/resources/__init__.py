"""One Falcon resource class per endpoint; each is thin: parse, call, respond."""
