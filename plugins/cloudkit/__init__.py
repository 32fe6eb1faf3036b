"""Shared pieces of the HTTP cloud channel plugins (Twilio, generic gateways).

Not a plugin itself (it registers nothing): a per-sender rate limiter, the pooled
``httpx2`` client and the retry policy for provider APIs.
"""
