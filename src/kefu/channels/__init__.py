"""Channel adapters: how messages come in from, and go out to, each channel.

Every channel (portal, API, email, chat, Telegram …) has one adapter behind the registry
(`registry.adapter_for`); the contract is on `base.ChannelAdapter`.
"""
