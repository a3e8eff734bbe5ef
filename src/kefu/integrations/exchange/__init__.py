"""The exchange backend adapter: UID lookup and account freeze (deposit status later).

`base.ExchangeBackend` is the contract; `http.HttpExchangeBackend` is the reference
implementation over signed HTTP (see `signing`); `fake` is a small in-memory exchange for
the demo and the tests. Freezes never run inline in a web request: the portal enqueues an
`exchange.freeze_account` job (see `jobs`) that the jobs table retries.
"""
