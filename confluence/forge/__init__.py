"""The Forge app's side: verify its invocation tokens, receive its events, apply them."""
