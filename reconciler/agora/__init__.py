"""Everything that knows the Agora ConvoAI REST API: its contract, its client, its tokens."""
