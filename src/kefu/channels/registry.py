"""The adapters by channel type. Adapters register themselves at import; the app and
the workers import `kefu.channels.delivery`, which imports every adapter module."""

from kefu.channels.base import ChannelAdapter
from kefu.core.errors import NotFound

_adapters: dict[str, ChannelAdapter] = {}


def register(adapter: ChannelAdapter) -> ChannelAdapter:
    if adapter.type in _adapters and type(_adapters[adapter.type]) is not type(adapter):
        raise ValueError(f"two adapters for the {adapter.type} channel")
    _adapters[adapter.type] = adapter
    return adapter


def adapter_for(channel: str) -> ChannelAdapter:
    try:
        return _adapters[channel]
    except KeyError:
        raise NotFound(f"No adapter for the {channel[:32]} channel.") from None


def registered() -> dict[str, ChannelAdapter]:
    return dict(_adapters)
