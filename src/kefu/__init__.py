"""Kefu (客服): self-hosted omnichannel customer support for cryptocurrency exchanges."""

__version__ = "0.1.0"
