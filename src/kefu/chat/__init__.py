"""Online chat (在线客服): the widget's conversations, the bot, the queue and the agents.

See docs/chat.md for the API and the owner state machine.
"""
