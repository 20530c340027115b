"""Pure pieces of the conversation: what the bot says about options and agreements."""
