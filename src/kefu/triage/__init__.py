"""Classification of inbound requests: security incidents now; categories and entities later."""
